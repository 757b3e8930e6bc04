package dev.kiln.bench;

import dev.kiln.sandbox.Sandbox;
import dev.kiln.sandbox.SandboxBackend;
import dev.kiln.sandbox.SandboxBackends;
import dev.kiln.sandbox.SandboxLimits;
import dev.kiln.sandbox.SeccompMode;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * What narrowing the OS surface costs, each figure next to its baseline from the same run:
 *
 * <ol>
 *   <li>seccomp per warm invoke: two servers side by side, {@code kiln up --seccomp default} and {@code --seccomp
 *       off}, the same functions on both, invoked in alternating rounds (so load from elsewhere on the host hits
 *       both alike): a no-op Python and Node.js function, and a Python handler making some 2,000 system calls per
 *       invoke (files, sockets, a thread, a child process);
 *   <li>sandbox creation: empty crun sandboxes prepared and closed in this process, alternately with and without
 *       the filter;
 *   <li>the CPU quota: a neighbour's warm invokes alone, then while a 128 MB function runs four busy processes,
 *       in rounds that alternate between the hog's quota (half a vCPU) and no quota (the bench, as root, lifts it
 *       in the warm hog environment's cgroup, then puts it back); the hog reports the CPU it got.
 * </ol>
 *
 * Runs as root with crun (the figures are crun's). {@code bench/run isolation [--quick]}; a program that prints
 * figures, never a test.
 */
@Command(name = "kiln-isolation-bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures what the seccomp filter and the CPU quota cost, each against a baseline of the same run.")
public final class IsolationBench implements Callable<Integer> {
  private static final String PYTHON_NOOP = """
      def lambda_handler(event, context):
          return {"ok": True}
      """;

  /** About 2,000 system calls per invoke: open/read/close, stat, socketpair, a thread, a child process. */
  private static final String PYTHON_SYSCALLS = """
      import os, socket, subprocess, threading

      def lambda_handler(event, context):
          with open("/tmp/f", "wb") as f:
              f.write(b"x" * 4096)
          for _ in range(300):
              with open("/tmp/f", "rb") as f:
                  f.read()
              os.stat("/tmp/f")
          for _ in range(50):
              a, b = socket.socketpair()
              a.sendall(b"ping")
              b.recv(4)
              a.close()
              b.close()
          t = threading.Thread(target=os.getpid)
          t.start()
          t.join()
          subprocess.run(["/bin/true"])
          return {"ok": True}
      """;

  /**
   * CPU nanoseconds per call, through ctypes, of getppid (not in the policy: the kernel caches it as allowed and
   * skips the filter) and of personality(0xffffffff) (the worst case: the filter runs through its list and all 32
   * personality rules before it allows the query). The min of 5 runs of 100,000 calls each.
   */
  private static final String PYTHON_PER_CALL = """
      import ctypes, time
      libc = ctypes.CDLL(None)
      query = ctypes.c_ulong(0xffffffff)

      def per_call(fn):
          best = None
          for _ in range(5):
              t = time.process_time_ns()
              for _ in range(100000):
                  fn()
              ns = (time.process_time_ns() - t) / 100000
              best = ns if best is None else min(best, ns)
          return best

      def lambda_handler(event, context):
          return {"getppid": per_call(libc.getppid), "personality": per_call(lambda: libc.personality(query))}
      """;

  private static final String NODE_NOOP = "exports.handler = async () => ({ ok: true });\n";

  /** Four busy processes for the given seconds; returns the CPU seconds they got and the wall seconds. */
  private static final String PYTHON_HOG = """
      import os, resource, time

      def lambda_handler(event, context):
          seconds = event.get("seconds", 1)
          before = resource.getrusage(resource.RUSAGE_CHILDREN)  # counts every child this environment reaped
          start = time.time()
          pids = []
          for _ in range(4):
              pid = os.fork()
              if pid == 0:
                  end = time.time() + seconds
                  while time.time() < end:
                      pass
                  os._exit(0)
              pids.append(pid)
          for pid in pids:
              os.waitpid(pid, 0)
          after = resource.getrusage(resource.RUSAGE_CHILDREN)
          cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
          return {"cpu": round(cpu, 2), "wall": round(time.time() - start, 2)}
      """;

  @Option(names = "--quick", description = "Fewer rounds and samples.")
  boolean quick;

  @Option(names = "--kiln-jar", description = "The server jar (default: cli/target/kiln.jar of this checkout).")
  Path kilnJar;

  private final long startNanos = System.nanoTime();

  public static void main(String[] args) {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.exit(new CommandLine(new IsolationBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Cleanup cleanup = new Cleanup();
    try {
      return run(cleanup);
    } finally {
      cleanup.run();
    }
  }

  private record Server(String label, ChildProcess process, SdkClient client, LambdaClient lambda) {}

  private int run(Cleanup cleanup) throws Exception {
    System.out.printf("kiln-isolation-bench %s %s%n", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME),
        quick ? "(--quick)" : "");
    System.out.printf("machine: %d cores, load average %s; java %s%n", Runtime.getRuntime().availableProcessors(),
        CpuMeter.loadAverage(), Runtime.version());
    Path work = Files.createTempDirectory("kiln-isolation-bench-");
    cleanup.add(() -> Cleanup.deleteTree(work));

    var servers = new ArrayList<Server>();
    for (String mode : List.of("default", "off")) {
      ChildProcess kiln = startKiln(work, mode, cleanup);
      URI endpoint = URI.create(kiln.readyLine().replaceAll(".*(http://[0-9.]+:[0-9]+).*", "$1"));
      if (!kiln.readyLine().contains("sandboxes: crun")) {
        throw new IllegalStateException("Kiln does not run crun sandboxes here: " + kiln.readyLine());
      }
      var client = new SdkClient(endpoint, InvokeBench.ACCESS_KEY, InvokeBench.SECRET_KEY, SdkClient.Http.URL_CONNECTION);
      cleanup.add(client::close);
      servers.add(new Server("seccomp " + mode, kiln, client, client.lambda()));
    }

    var functions = new LinkedHashMap<String, String[]>(); // name -> runtime, handler file, source
    functions.put("python-noop", new String[] {"python3.12", "lambda_function.py", PYTHON_NOOP});
    functions.put("python-2000-syscalls", new String[] {"python3.12", "lambda_function.py", PYTHON_SYSCALLS});
    functions.put("node-noop", new String[] {"nodejs22.x", "index.js", NODE_NOOP});
    for (Server s : servers) {
      for (var f : functions.entrySet()) {
        create(s.lambda(), f.getKey(), f.getValue()[0], f.getValue()[1], f.getValue()[2], 256);
      }
    }

    // 1. Warm invokes, alternating servers round by round.
    int rounds = quick ? 4 : 10;
    int perRound = quick ? 50 : 100;
    var samples = new LinkedHashMap<String, Samples>();
    for (String f : functions.keySet()) {
      for (Server s : servers) {
        for (int i = 0; i < 20; i++) invoke(s, f); // warm environment and JIT
      }
    }
    for (int round = 0; round < rounds; round++) {
      for (String f : functions.keySet()) {
        for (Server s : (round % 2 == 0 ? servers : servers.reversed())) {
          Samples into = samples.computeIfAbsent(f + "|" + s.label(), k -> new Samples());
          for (int i = 0; i < perRound; i++) {
            long t0 = System.nanoTime();
            invoke(s, f);
            into.add(System.nanoTime() - t0);
          }
        }
      }
      log("warm round " + (round + 1) + "/" + rounds + " done");
    }
    System.out.println();
    System.out.println("1. Warm invokes (sequential, client round trip), filter on vs off, same run, alternating rounds:");
    System.out.printf("   %-22s %14s %14s %14s %14s %12s%n", "function", "on p50", "off p50", "on p99", "off p99",
        "p50 diff");
    for (String f : functions.keySet()) {
      Samples on = samples.get(f + "|seccomp default");
      Samples off = samples.get(f + "|seccomp off");
      System.out.printf("   %-22s %14s %14s %14s %14s %12s%n", f, us(on.percentile(50)), us(off.percentile(50)),
          us(on.percentile(99)), us(off.percentile(99)), us(on.percentile(50) - off.percentile(50)));
    }

    // 1b. CPU per system call inside the sandbox, on both servers, alternating.
    create(servers.get(0).lambda(), "per-call", "python3.12", "lambda_function.py", PYTHON_PER_CALL, 1769);
    create(servers.get(1).lambda(), "per-call", "python3.12", "lambda_function.py", PYTHON_PER_CALL, 1769);
    var perCall = new LinkedHashMap<String, List<String>>();
    for (int i = 0; i < (quick ? 2 : 4); i++) {
      for (Server s : (i % 2 == 0 ? servers : servers.reversed())) {
        var reply = s.client().invoke("per-call", Load.PAYLOAD, false);
        if (!reply.ok()) throw new IllegalStateException("per-call failed: " + reply);
        perCall.computeIfAbsent(s.label(), k -> new ArrayList<>()).add(reply.bodyText());
      }
    }
    System.out.println();
    System.out.println("1b. CPU ns per call inside a sandbox (ctypes; min of 5x100k; one line per invoke):");
    perCall.forEach((label, lines) -> lines.forEach(line -> System.out.printf("   %-16s %s%n", label, line)));

    // 2. Sandbox creation, in this process, alternately with and without the filter.
    System.out.println();
    System.out.println("2. Empty crun sandbox prepare+close (this process), filter on vs off, alternating:");
    int creations = quick ? 20 : 60;
    var prepare = new LinkedHashMap<SeccompMode, Samples>();
    var backends = new LinkedHashMap<SeccompMode, SandboxBackend>();
    for (SeccompMode mode : SeccompMode.values()) {
      var backend = SandboxBackends.detect(work.resolve("sandboxes-" + mode), null, mode, java.util.List.of());
      cleanup.add(backend::close);
      backends.put(mode, backend);
      prepare.put(mode, new Samples());
    }
    var limits = new SandboxLimits(128, 64, 256, false);
    for (int i = 0; i < creations + 3; i++) {
      for (var e : (i % 2 == 0 ? backends.sequencedEntrySet() : backends.sequencedEntrySet().reversed())) {
        long t0 = System.nanoTime();
        Sandbox s = e.getValue().prepare(limits);
        long made = System.nanoTime() - t0;
        s.close();
        if (i >= 3) prepare.get(e.getKey()).add(made); // the first few warm up the JVM's paths
      }
    }
    System.out.printf("   prepare p50: filter %s, no filter %s (diff %s); p99: %s vs %s%n",
        us(prepare.get(SeccompMode.DEFAULT).percentile(50)), us(prepare.get(SeccompMode.OFF).percentile(50)),
        us(prepare.get(SeccompMode.DEFAULT).percentile(50) - prepare.get(SeccompMode.OFF).percentile(50)),
        us(prepare.get(SeccompMode.DEFAULT).percentile(99)), us(prepare.get(SeccompMode.OFF).percentile(99)));

    // 3. A neighbour's latency alone and next to a CPU hog, with the hog's quota and, as the baseline, without it:
    // the bench (root) lifts the warm hog environment's quota in its cgroup and puts it back, alternating.
    System.out.println();
    System.out.println("3. CPU quota: a neighbour's warm invokes (node no-op, 256 MB) alone and next to a 128 MB hog"
        + " running 4 busy processes, with the hog's quota (0.5 vCPU) and without it (quota lifted by the bench):");
    Server s = servers.getFirst();
    create(s.lambda(), "hog", "python3.12", "lambda_function.py", PYTHON_HOG, 128);
    invoke(s, "hog"); // its environment stays warm: the same cgroup for every round
    Path quotaFile = cgroupFileOf("hog", "cpu", "cpu.cfs_quota_us");
    String quota = Files.readString(quotaFile).trim();
    int hogSeconds = quick ? 6 : 10;
    for (int round = 0; round < (quick ? 2 : 4); round++) {
      boolean withQuota = round % 2 == 0;
      Files.writeString(quotaFile, withQuota ? quota : "-1");
      Samples alone = neighbour(s, Duration.ofSeconds(hogSeconds - 2));
      var hog = CompletableFuture.supplyAsync(() -> s.client().invoke("hog",
          ("{\"seconds\":" + hogSeconds + "}").getBytes(StandardCharsets.UTF_8), false));
      Thread.sleep(1000); // let the hog start
      Samples nextToHog = neighbour(s, Duration.ofSeconds(hogSeconds - 2));
      var hogReply = hog.get();
      System.out.printf("   hog %-14s neighbour alone p50 %s p95 %s | next to hog p50 %s p95 %s | p95 ratio %.2f | hog %s%n",
          withQuota ? "with quota:" : "without quota:", us(alone.percentile(50)), us(alone.percentile(95)),
          us(nextToHog.percentile(50)), us(nextToHog.percentile(95)),
          nextToHog.percentile(95) / alone.percentile(95), hogReply.bodyText());
    }
    Files.writeString(quotaFile, quota);
    System.out.printf("%nload average at the end: %s%n", CpuMeter.loadAverage());
    return 0;
  }

  /**
   * A file of the cgroup of the (one) environment of a function, found from the host: a process whose environment
   * names the function (reading other processes' environ needs root).
   */
  private static Path cgroupFileOf(String function, String controller, String file) throws java.io.IOException {
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        String env;
        try {
          env = new String(Files.readAllBytes(proc.resolve("environ")), StandardCharsets.UTF_8);
        } catch (java.io.IOException gone) {
          continue;
        }
        if (!env.contains("AWS_LAMBDA_FUNCTION_NAME=" + function + "\0")) continue;
        for (String line : Files.readAllLines(proc.resolve("cgroup"))) {
          String[] f = line.split(":", 3);
          if (f.length == 3 && List.of(f[1].split(",")).contains(controller)) {
            return Path.of("/sys/fs/cgroup/" + controller + f[2], file);
          }
        }
      }
    }
    throw new IllegalStateException("no process of function " + function + " found under /proc");
  }

  private Samples neighbour(Server s, Duration window) {
    Samples samples = new Samples();
    long end = System.nanoTime() + window.toNanos();
    while (System.nanoTime() < end) {
      long t0 = System.nanoTime();
      invoke(s, "node-noop");
      samples.add(System.nanoTime() - t0);
    }
    return samples;
  }

  private static void invoke(Server s, String function) {
    var reply = s.client().invoke(function, Load.PAYLOAD, false);
    if (!reply.ok()) throw new IllegalStateException(function + " on " + s.label() + " failed: " + reply);
  }

  private void create(LambdaClient lambda, String name, String runtime, String file, String source, int memoryMb)
      throws InterruptedException {
    String handler = file.endsWith(".py") ? "lambda_function.lambda_handler" : "index.handler";
    lambda.createFunction(b -> b.functionName(name).runtime(runtime).handler(handler).memorySize(memoryMb).timeout(60)
        .role("arn:aws:iam::000000000000:role/bench")
        .environment(e -> e.variables(Map.of("KILN_SNAPSHOT", "off"))) // booted: crun's own filter
        .code(c -> c.zipFile(SdkBytes.fromByteArray(Functions.zip(Map.of(file, source))))));
    Functions.awaitActive(lambda, name, Duration.ofSeconds(60));
  }

  private ChildProcess startKiln(Path work, String seccomp, Cleanup cleanup) throws java.io.IOException {
    Path data = Files.createDirectories(work.resolve("data-" + seccomp));
    Path jar = kilnJar != null ? kilnJar : Path.of("cli/target/kiln.jar");
    List<String> command = KilnUp.command(jar, data, List.of("--seccomp", seccomp));
    log("starting Kiln: " + String.join(" ", command));
    return KilnUp.start("kiln-" + seccomp, command, work, cleanup, "kiln-isolation-bench");
  }

  private static String us(double nanos) {
    return String.format("%.0f µs", nanos / 1000);
  }

  private void log(String message) {
    System.err.printf("[%6.1f s] %s%n", (System.nanoTime() - startNanos) / 1e9, message);
  }
}
