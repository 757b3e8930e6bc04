package dev.kiln.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark (prints, asserts nothing): what a sandbox's network costs. Two crun backends side by side in one run,
 * one without networks (the baseline: loopback only, as before) and one with them; rounds alternate between the
 * two so both see the same machine load. Per sandbox: {@code prepare} (where the veth link is made, off the cold
 * path), {@code launch} to the first output line with no policy and with {@code internet} (where the policy's
 * nftables elements are added: on the cold path), and {@code close}.
 *
 * <p>Run under the bench lock after {@code mvn -pl sandbox test-compile}: {@code flock /tmp/kiln-bench.lock java
 * --enable-native-access=ALL-UNNAMED -cp sandbox/target/classes:sandbox/target/test-classes:<slf4j, logback>
 * dev.kiln.sandbox.SandboxNetworkCost [rounds]}. Needs root, crun and nft.
 */
public final class SandboxNetworkCost {
  private static final SandboxLimits LIMITS = new SandboxLimits(128, 64, 256, false);
  private static final int PER_ROUND = 10;
  private static final Egress INTERNET = new Egress(true, List.of());

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    Path temp = Files.createTempDirectory("kiln-net-bench");
    int n = rounds * PER_ROUND;
    double[] plainPrepare = new double[n], netPrepare = new double[n];
    double[] plainClose = new double[n], netClose = new double[n];
    double[] plainLaunch = new double[n], netLaunchNone = new double[n], netLaunchInternet = new double[n];
    try (var plain = new CrunBackend(temp.resolve("plain"), null, false, SeccompMode.DEFAULT, null);
        var net = new CrunBackend(temp.resolve("net"), null, false, SeccompMode.DEFAULT, List.of())) {
      if (net.network == null) throw new IllegalStateException("the network backend has no network here");
      for (int i = 0; i < 3; i++) { // warm up both
        cycle(plain, Egress.NONE);
        cycle(net, INTERNET);
      }
      int k = 0;
      for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < PER_ROUND; i++, k++) {
          double[] p = cycle(plain, Egress.NONE);
          plainPrepare[k] = p[0];
          plainLaunch[k] = p[1];
          plainClose[k] = p[2];
          double[] q = cycle(net, Egress.NONE);
          netLaunchNone[k] = q[1];
          double[] r = cycle(net, INTERNET);
          netPrepare[k] = (q[0] + r[0]) / 2;
          netLaunchInternet[k] = r[1];
          netClose[k] = (q[2] + r[2]) / 2;
        }
      }
      applyCost(net.network, n * 2);
    } finally {
      Os.deleteTreeQuietly(temp);
    }
    System.out.printf("host: %d cores; %d sandboxes per figure, interleaved%n",
        Runtime.getRuntime().availableProcessors(), n);
    row("prepare (pool, off the cold path)", plainPrepare, netPrepare);
    row("launch -> first output, policy none", plainLaunch, netLaunchNone);
    row("launch -> first output, policy internet", plainLaunch, netLaunchInternet);
    row("close", plainClose, netClose);
    System.out.println(applyRow);
  }

  /**
   * The policy update alone, as launch does it (through the long-lived nft -i), against its baseline in the same
   * run: the same batch given to a new {@code nft -f -} process each time.
   */
  private static void applyCost(SandboxNetwork network, int n) throws Exception {
    var nft = Os.which("nft").orElseThrow().toString();
    double[] shell = new double[n];
    double[] spawn = new double[n];
    for (int i = 0; i < n; i++) {
      var link = network.reserve();
      long t0 = System.nanoTime();
      network.apply(link, INTERNET);
      long t1 = System.nanoTime();
      network.release(link, INTERNET);
      shell[i] = (t1 - t0) / 1e6;
      String table = network.table();
      String address = SandboxNetwork.dotted(link.address());
      long t2 = System.nanoTime();
      var p = new ProcessBuilder(nft, "-f", "-").start();
      p.getOutputStream().write(("add element inet " + table + " launched { " + address + " }\nadd element inet "
          + table + " internet { " + address + " }\n").getBytes());
      p.getOutputStream().close();
      p.waitFor();
      long t3 = System.nanoTime();
      new ProcessBuilder(nft, "delete element inet " + table + " launched { " + address + " }; delete element inet "
          + table + " internet { " + address + " }").start().waitFor();
      spawn[i] = (t3 - t2) / 1e6;
    }
    applyRow = String.format("%-42s one nft process per update p50 %6.2f ms | nft -i (Kiln) p50 %6.2f ms",
        "policy update at launch (internet)", pct(spawn, 50), pct(shell, 50));
  }

  private static String applyRow = "";

  /** Prepare, launch {@code echo} with {@code egress}, wait for its line and exit, close: the three times in ms. */
  private static double[] cycle(SandboxBackend backend, Egress egress) throws Exception {
    long t0 = System.nanoTime();
    Sandbox s = backend.prepare(LIMITS);
    long t1 = System.nanoTime();
    var first = new CompletableFuture<Long>();
    long t2 = System.nanoTime();
    s.launch(new Launch(List.of("/bin/sh", "-c", "echo hi"), Map.of(), null, 128, Map.of(), false, egress),
        line -> first.complete(System.nanoTime()));
    long t3 = first.get(30, TimeUnit.SECONDS);
    s.exited().get(30, TimeUnit.SECONDS);
    long t4 = System.nanoTime();
    s.close();
    long t5 = System.nanoTime();
    return new double[] {(t1 - t0) / 1e6, (t3 - t2) / 1e6, (t5 - t4) / 1e6};
  }

  private static void row(String what, double[] baseline, double[] withNetwork) {
    System.out.printf("%-42s without network p50 %6.2f ms mean %6.2f | with network p50 %6.2f ms mean %6.2f"
            + " | difference of p50 %+6.2f ms%n", what, pct(baseline, 50), mean(baseline), pct(withNetwork, 50),
        mean(withNetwork), pct(withNetwork, 50) - pct(baseline, 50));
  }

  private static double pct(double[] values, int p) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v[Math.min(v.length - 1, (int) Math.round(p / 100.0 * (v.length - 1)))];
  }

  private static double mean(double[] values) {
    return Arrays.stream(values).average().orElse(0);
  }
}
