package dev.kiln.sandbox;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark (prints, asserts nothing): empty sandboxes prepared per second, sequentially and with 4
 * threads; time from {@code launch} to the first output line; hard-linking code. Runs every backend that
 * works here. Baseline in the same run: spawning {@code /bin/true} with ProcessBuilder.
 *
 * <p>Run after {@code mvn -f sandbox/pom.xml test-compile}: {@code java --enable-native-access=ALL-UNNAMED
 * -cp sandbox/target/classes:sandbox/target/test-classes:<slf4j-api and logback jars>
 * dev.kiln.sandbox.SandboxCreationRate [n]}. Needs root and crun for the crun figures.
 */
public final class SandboxCreationRate {
  static final SandboxLimits LIMITS = new SandboxLimits(128, 64, 256, false);

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    Path temp = Files.createTempDirectory("kiln-bench");
    System.out.printf("host: %d cores; %d sandboxes per measurement%n", Runtime.getRuntime().availableProcessors(), n);
    baseline(n);
    var kinds = new ArrayList<String>();
    if (CrunBackend.unavailableReason() == null) kinds.add("crun");
    kinds.add("process");
    if (CrunBackend.unavailableReason() == null) {
      try (var socat = new CrunBackend(temp.resolve("crun-socat"), null, true)) {
        System.out.println("crun with the socat fallback instead of the JVM relay:");
        prepareRate(socat, n, 1);
        prepareRate(socat, n, 4);
        roundTrips(socat, 2000);
      }
    }
    for (String kind : kinds) {
      try (SandboxBackend backend = SandboxBackends.create(kind, temp.resolve(kind), null)) {
        prepareRate(backend, n, 1);
        prepareRate(backend, n, 4);
        launchLatency(backend, Math.max(20, n / 2));
        freezeThaw(backend, 200);
        roundTrips(backend, 2000);
      }
    }
    hardLinks(temp);
    Os.deleteTreeQuietly(temp);
  }

  static void baseline(int n) throws Exception {
    for (int i = 0; i < 10; i++) new ProcessBuilder("/bin/true").start().waitFor();
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) new ProcessBuilder("/bin/true").start().waitFor();
    double s = (System.nanoTime() - t0) / 1e9;
    System.out.printf("baseline: ProcessBuilder /bin/true start+exit, sequential: %.0f/s%n", n / s);
  }

  static void prepareRate(SandboxBackend backend, int n, int threads) throws Exception {
    // warm up
    for (int i = 0; i < 3; i++) backend.prepare(LIMITS).close();
    var made = Collections.synchronizedList(new ArrayList<Sandbox>());
    long t0 = System.nanoTime();
    if (threads == 1) {
      for (int i = 0; i < n; i++) made.add(backend.prepare(LIMITS));
    } else {
      try (var pool = Executors.newFixedThreadPool(threads)) {
        var futures = new ArrayList<CompletableFuture<Void>>();
        for (int i = 0; i < n; i++) futures.add(CompletableFuture.runAsync(() -> made.add(backend.prepare(LIMITS)), pool));
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
      }
    }
    double s = (System.nanoTime() - t0) / 1e9;
    long c0 = System.nanoTime();
    if (threads == 1) {
      made.forEach(Sandbox::close);
    } else {
      try (var pool = Executors.newFixedThreadPool(threads)) {
        var latch = new CountDownLatch(made.size());
        for (Sandbox sb : made) pool.execute(() -> { sb.close(); latch.countDown(); });
        latch.await();
      }
    }
    double cs = (System.nanoTime() - c0) / 1e9;
    System.out.printf("%s: prepare, %d thread(s): %.0f sandboxes/s (%.1f ms each); close: %.0f/s%n",
        backend.name(), threads, n / s, s * 1000 / n * threads, n / cs);
  }

  static void launchLatency(SandboxBackend backend, int n) throws Exception {
    double[] launchMs = new double[n];
    double[] coldMs = new double[n];
    for (int i = 0; i < n + 3; i++) {
      long p0 = System.nanoTime();
      try (Sandbox s = backend.prepare(LIMITS)) {
        var first = new CompletableFuture<Long>();
        long t0 = System.nanoTime();
        s.launch(new Launch(List.of("/bin/sh", "-c", "echo hi"), Map.of(), null, 128), l -> first.complete(System.nanoTime()));
        long t1 = first.get(30, TimeUnit.SECONDS);
        if (i >= 3) {
          launchMs[i - 3] = (t1 - t0) / 1e6;
          coldMs[i - 3] = (t1 - p0) / 1e6;
        }
        s.exited().get(30, TimeUnit.SECONDS);
      }
    }
    System.out.printf("%s: launch -> first output line (pre-made sandbox): p50 %.2f ms, p90 %.2f ms, min %.2f ms%n",
        backend.name(), pct(launchMs, 50), pct(launchMs, 90), pct(launchMs, 0));
    System.out.printf("%s: prepare + launch -> first output line (no pool): p50 %.2f ms, p90 %.2f ms%n",
        backend.name(), pct(coldMs, 50), pct(coldMs, 90));
  }

  static void freezeThaw(SandboxBackend backend, int n) throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      s.launch(new Launch(List.of("/bin/sh", "-c", "while :; do sleep 0.01; done"), Map.of(), null, 128), l -> {});
      double[] freeze = new double[n];
      double[] thaw = new double[n];
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        s.freeze();
        long t1 = System.nanoTime();
        s.thaw();
        long t2 = System.nanoTime();
        freeze[i] = (t1 - t0) / 1e6;
        thaw[i] = (t2 - t1) / 1e6;
      }
      System.out.printf("%s: freeze p50 %.3f ms (p90 %.3f), thaw p50 %.3f ms (p90 %.3f)%n", backend.name(),
          pct(freeze, 50), pct(freeze, 90), pct(thaw, 50), pct(thaw, 90));
    }
  }

  /**
   * Runtime API round trips from inside a sandbox (python3 http.client, one keep-alive connection) to a
   * minimal HTTP responder on the sandbox's Unix socket: what the bridge adds per request.
   */
  static void roundTrips(SandboxBackend backend, int n) throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var server = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
      server.bind(java.net.UnixDomainSocketAddress.of(s.runtimeApiSocket()));
      Files.setPosixFilePermissions(s.runtimeApiSocket(), java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"));
      Thread.ofVirtual().start(() -> {
        try (server; var c = server.accept()) {
          byte[] response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".getBytes();
          var buf = java.nio.ByteBuffer.allocate(8192);
          var head = new StringBuilder();
          while (c.read(buf) >= 0) {
            buf.flip();
            head.append(java.nio.charset.StandardCharsets.ISO_8859_1.decode(buf));
            buf.clear();
            int end;
            while ((end = head.indexOf("\r\n\r\n")) >= 0) {
              head.delete(0, end + 4);
              c.write(java.nio.ByteBuffer.wrap(response));
            }
          }
        } catch (java.io.IOException ignored) {
          // done
        }
      });
      var out = new Runs.Output();
      String script = """
          import http.client, os, time
          host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
          c = http.client.HTTPConnection(host, int(port))
          t = []
          for i in range(%d):
              t0 = time.perf_counter_ns()
              c.request("GET", "/2018-06-01/runtime/invocation/next")
              c.getresponse().read()
              t.append(time.perf_counter_ns() - t0)
          t = sorted(t[100:])
          print("%%.0f %%.0f" %% (t[len(t) // 2] / 1000, t[int(len(t) * 0.99)] / 1000), flush=True)
          """.formatted(n);
      s.launch(new Launch(List.of("/usr/bin/python3", "-c", script),
          Map.of("AWS_LAMBDA_RUNTIME_API", s.runtimeApiAddress()), null, 128), out::add);
      s.exited().get(60, TimeUnit.SECONDS);
      String[] r = out.lines().isEmpty() ? new String[] {"?", "?"} : out.lines().getLast().split(" ");
      System.out.printf("%s: Runtime API round trip from inside (python http.client, keep-alive): p50 %s us, p99 %s us%n",
          backend.name(), r[0], r.length > 1 ? r[1] : "?");
    }
  }

  static void hardLinks(Path temp) throws Exception {
    Path code = Files.createDirectories(temp.resolve("code"));
    for (int d = 0; d < 20; d++) {
      Path dir = Files.createDirectories(code.resolve("d" + d));
      for (int f = 0; f < 50; f++) Files.writeString(dir.resolve("f" + f + ".js"), "x");
    }
    for (int round = 0; round < 3; round++) {
      Path target = Files.createDirectories(temp.resolve("target" + round));
      long t0 = System.nanoTime();
      CodeTree.populate(code, target);
      if (round == 2) System.out.printf("code: hard-linking 1000 files in 20 directories: %.1f ms%n", (System.nanoTime() - t0) / 1e6);
    }
  }

  static double pct(double[] values, int p) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v[Math.min(v.length - 1, (int) Math.round(p / 100.0 * (v.length - 1)))];
  }
}
