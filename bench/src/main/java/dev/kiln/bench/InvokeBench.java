package dev.kiln.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Starts the built Kiln server and a plain Node.js HTTP hello server side by side, creates no-op
 * Node, Python and Java functions, and prints warm invoke latency and throughput (concurrency 1 and
 * N), cold-start latency and Init Duration per runtime, next to the baseline and DESIGN.md's
 * targets. A program that prints figures, never a test.
 */
@Command(name = "kiln-bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures Kiln's invoke latency, throughput and cold starts against a plain HTTP baseline.")
public final class InvokeBench implements Callable<Integer> {
  static final String ACCESS_KEY = "test";
  static final String SECRET_KEY = "test";
  static final String REGION = "us-east-1";

  @Option(names = "--quick", description = "Fewer and shorter samples (about a minute in all).")
  boolean quick;

  @Option(names = "--runtimes", split = ",", defaultValue = "node,python,java",
      description = "Runtimes to measure, of node, python, java (default: ${DEFAULT-VALUE}).")
  List<String> runtimes;

  @Option(names = "--concurrency", defaultValue = "16", description = "Client threads of the concurrent run (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--client", defaultValue = "raw",
      description = "Invoke client for the measurements: raw (blocking socket + SDK SigV4 signer), jdk (java.net.http"
          + " + signer), sdk-url or sdk-apache5 (the SDK's LambdaClient) (default: ${DEFAULT-VALUE}).")
  String client;

  @Option(names = "--compare-clients", negatable = true,
      description = "Measure every client against the baseline and Kiln at concurrency 1 before the main runs"
          + " (default: on, off with --quick).")
  Boolean compareClients;

  @Option(names = "--warmup", description = "Warm-up seconds per load run (default 2, quick 1).")
  Double warmupSeconds;

  @Option(names = "--measure", description = "Measured seconds per load run (default 4, quick 1.5).")
  Double measureSeconds;

  @Option(names = "--cold-samples", description = "Cold starts per runtime, half of them timed without and half with a Tail"
      + " log (default 24, quick 8).")
  Integer coldSamples;

  @Option(names = "--cold-via", defaultValue = "create",
      description = "How a cold start is forced: create (a new function per sample, deleted afterwards) or update"
          + " (UpdateFunctionConfiguration with a new environment variable, then the first invoke) (default: ${DEFAULT-VALUE}).")
  String coldVia;

  @Option(names = "--cold-pause-ms", defaultValue = "100", description = "Pause before each cold start (default: ${DEFAULT-VALUE}).")
  int coldPauseMs;

  @Option(names = "--baseline", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Measure the baseline server (default: on; --no-baseline only for diagnosing Kiln).")
  boolean baselineOn;

  @Option(names = "--cold", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Measure cold starts (default: on).")
  boolean coldOn;

  @Option(names = "--admission-compare", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Also measure warm invokes against a second server started with admission bypassed, in"
          + " alternating runs, to show what admission costs an invoke (default: on).")
  boolean admissionCompare;

  @Option(names = "--kiln-jar", description = "The server jar (default: cli/target/kiln.jar of this checkout).")
  Path kilnJar;

  @Option(names = "--server-jvm-arg", description = "Extra JVM option for the Kiln server (repeatable).")
  List<String> serverJvmArgs = new ArrayList<>();

  @Option(names = "--no-aot", description = "Start Kiln without cli/target/kiln.aot even when it is fresh.")
  boolean noAot;

  @Option(names = "--node", defaultValue = "node", description = "Node.js executable for the baseline server (default: ${DEFAULT-VALUE}).")
  String nodeExecutable;

  private final long startNanos = System.nanoTime();
  private final CpuMeter meter = new CpuMeter();
  private final List<String> problems = new ArrayList<>();
  private long kilnPid;
  private long baselinePid;
  private ChildProcess kilnProcess;
  /** CPU use of every measurement, to tell how busy the rest of the machine was. */
  private final List<CpuMeter.Usage> busy = new ArrayList<>();

  public static void main(String[] args) {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.exit(new CommandLine(new InvokeBench()).setCaseInsensitiveEnumValuesAllowed(true).execute(args));
  }

  private Duration warmup() {
    return seconds(warmupSeconds != null ? warmupSeconds : quick ? 1.0 : 2.0);
  }

  private Duration measure() {
    return seconds(measureSeconds != null ? measureSeconds : quick ? 1.5 : 4.0);
  }

  private int coldSamples() {
    return coldSamples != null ? coldSamples : quick ? 8 : 24;
  }

  private static Duration seconds(double s) {
    return Duration.ofNanos((long) (s * 1e9));
  }

  @Override
  public Integer call() throws Exception {
    for (String r : runtimes) {
      if (!Functions.supportedKeys().contains(r)) {
        throw new CommandLine.ParameterException(new CommandLine(this), "unknown runtime '" + r + "': use node, python or java");
      }
    }
    if (!List.of("create", "update").contains(coldVia)) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--cold-via is create or update");
    }
    Cleanup cleanup = new Cleanup();
    try {
      return run(cleanup);
    } catch (Exception e) {
      System.out.flush();
      System.err.println("kiln-bench failed: " + e);
      e.printStackTrace();
      if (kilnProcess != null) {
        System.err.println("the Kiln server's last output (" + (kilnProcess.isAlive() ? "running" : "exited") + "):");
        System.err.println(kilnProcess.lastOutput().lines().skip(Math.max(0, kilnProcess.lastOutput().lines().count() - 40))
            .reduce("", (a, b) -> a + "  " + b + "\n"));
      }
      return 2;
    } finally {
      cleanup.run();
    }
  }

  private int run(Cleanup cleanup) throws Exception {
    String loadAtStart = CpuMeter.loadAverage();
    System.out.printf("kiln-bench %s  %s%n", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME),
        quick ? "(--quick)" : "");
    System.out.printf("machine: %d cores, load average %s, %s; java %s%n", Runtime.getRuntime().availableProcessors(),
        loadAtStart, memory(), Runtime.version());

    Path work = Files.createTempDirectory("kiln-bench-");
    cleanup.add(() -> Cleanup.deleteTree(work));
    Path jar = kilnJar();
    System.out.printf("server: %s%n", describeJar(jar));

    // ---- servers
    ChildProcess kiln = startKiln(jar, work.resolve("data"), List.of(), cleanup);
    int kilnPort = port(kiln.readyLine());
    URI kilnEndpoint = URI.create("http://127.0.0.1:" + kilnPort);
    log("Kiln: " + kiln.readyLine());
    int basePort = freePort();
    ChildProcess baseline = ChildProcess.startAndAwaitPort("baseline", List.of(nodeExecutable, "-e",
        "require('http').createServer((q,s)=>s.end('{\"ok\":true}')).listen(" + basePort + ",'127.0.0.1')"),
        work, basePort, Duration.ofSeconds(20));
    cleanup.add(() -> baseline.stop(Duration.ofSeconds(5)));
    URI baseEndpoint = URI.create("http://127.0.0.1:" + basePort);
    log("baseline: node http hello server on " + baseEndpoint + " (pid " + baseline.pid() + ")");
    meter.watch(kiln.pid(), baseline.pid());
    baselinePid = baseline.pid();
    kilnPid = kiln.pid();
    kilnProcess = kiln;

    Signer signer = new Signer(ACCESS_KEY, SECRET_KEY, REGION);
    try (LambdaClient lambda = SdkClient.lambdaClient(kilnEndpoint, ACCESS_KEY, SECRET_KEY, SdkClient.Http.URL_CONNECTION)) {
      // ---- functions
      Map<String, Functions.Spec> specs = new LinkedHashMap<>();
      for (String key : runtimes) {
        specs.put(key, Functions.spec(key, work));
      }
      for (Functions.Spec spec : specs.values()) {
        long t0 = System.nanoTime();
        Functions.create(lambda, spec, spec.functionName());
        Functions.awaitActive(lambda, spec.functionName(), Duration.ofSeconds(60));
        log(String.format("created %s (%s, %d MB, %d-byte zip): Active after %.0f ms", spec.functionName(),
            spec.runtime(), spec.memoryMb(), spec.zip().length, (System.nanoTime() - t0) / 1e6));
      }

      // ---- which client
      Map<String, Results> results = new LinkedHashMap<>();
      String compareOn = runtimes.contains("node") ? "node" : runtimes.getFirst();
      try (InvokeClient check = client(client, kilnEndpoint, signer)) {
        for (Functions.Spec spec : specs.values()) {
          firstInvoke(check, spec);
        }
      }

      // ---- the server's own warm-up (JIT): otherwise the first runtime measured pays for it
      warmUpServer(kilnEndpoint, signer, specs.values().stream().map(Functions.Spec::functionName).toList());
      boolean compare = compareClients != null ? compareClients : !quick;
      if (compare) {
        compareClients(specs.get(compareOn), kilnEndpoint, baseEndpoint, signer);
      }

      // ---- baseline and warm runs
      Results base = new Results("baseline");
      if (baselineOn) {
        try (InvokeClient c = client(client, baseEndpoint, signer)) {
          base.c1 = load("baseline", c, "baseline", 1);
          base.cN = load("baseline", c, "baseline", concurrency);
        }
      }
      try (InvokeClient c = client(client, kilnEndpoint, signer)) {
        for (Functions.Spec spec : specs.values()) {
          Results r = new Results(spec.key());
          results.put(spec.key(), r);
          r.c1 = load(spec.key() + " warm", c, spec.functionName(), 1);
          r.reportDuration = reportDurations(c, spec);
          r.cN = load(spec.key() + " warm", c, spec.functionName(), concurrency);
          r.cold = coldOn ? cold(lambda, c, spec) : new Cold();
        }
      }
      AdmissionCompare admission = null;
      if (admissionCompare) {
        admission = compareAdmission(jar, work, cleanup, specs.get(compareOn), kilnEndpoint, signer);
      }
      if (!kiln.isAlive()) {
        problems.add("the Kiln server exited during the run; its last output:\n" + kiln.lastOutput());
      }
      if (base.c1 == null) {
        base.c1 = base.cN = Load.Result.empty("baseline");
      }
      printSummary(base, results, loadAtStart, kiln, jar);
      if (admission != null) {
        admission.print(concurrency);
      }
    }
    return problems.isEmpty() ? 0 : 1;
  }

  // ------------------------------------------------------------------------------------ servers

  private ChildProcess startKiln(Path jar, Path data, List<String> extraArgs, Cleanup cleanup) throws IOException {
    Path work = data.getParent();
    Files.createDirectories(data);
    String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    Path aot = jar.resolveSibling("kiln.aot");
    boolean useAot = !noAot && Files.isRegularFile(aot) && Files.getLastModifiedTime(aot).compareTo(Files.getLastModifiedTime(jar)) >= 0;
    for (int attempt = 1; ; attempt++) {
      int port = freePort();
      List<String> command = new ArrayList<>(List.of(java));
      if (useAot) {
        command.addAll(List.of("-XX:AOTCache=" + aot, "-Xlog:aot=off", "-Xlog:cds=off"));
      }
      command.addAll(serverJvmArgs);
      command.addAll(List.of("-jar", jar.toString(), "up", "--host", "127.0.0.1", "--port", String.valueOf(port),
          "--data-dir", data.toString(), "--dev-credentials"));
      command.addAll(extraArgs);
      log("starting Kiln: " + String.join(" ", command));
      try {
        ChildProcess kiln = ChildProcess.startAndAwaitLine("kiln", command, work, "Kiln is ready at", Duration.ofSeconds(90));
        cleanup.add(() -> {
          String note = kiln.stop(Duration.ofSeconds(30));
          if (note != null) {
            System.err.println("kiln-bench: " + note);
          }
        });
        return kiln;
      } catch (IllegalStateException e) {
        if (attempt == 3 || !String.valueOf(e.getMessage()).contains("Address already in use")) {
          throw e;
        }
      }
    }
  }

  private Path kilnJar() {
    if (kilnJar != null) {
      return require(kilnJar.toAbsolutePath().normalize());
    }
    List<Path> candidates = new ArrayList<>();
    try {
      // bench/target/kiln-bench.jar or bench/target/classes -> <root>/cli/target/kiln.jar
      Path self = Path.of(InvokeBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      candidates.add(self.getParent().getParent().getParent().resolve("cli/target/kiln.jar"));
    } catch (URISyntaxException | RuntimeException e) {
      // fall back to the working directory
    }
    candidates.add(Path.of("cli/target/kiln.jar"));
    candidates.add(Path.of("../cli/target/kiln.jar"));
    for (Path p : candidates) {
      if (Files.isRegularFile(p)) {
        return p.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException("cli/target/kiln.jar not found (looked at " + candidates
        + "): build with `mvn -B -q install -DskipTests` or pass --kiln-jar");
  }

  /** The jar, when it was built, and the checkout's commit (with a note when the work tree has changes). */
  private static String describeJar(Path jar) {
    String built;
    try {
      built = Files.getLastModifiedTime(jar).toInstant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    } catch (IOException e) {
      built = "?";
    }
    Path root = jar.getParent() == null || jar.getParent().getParent() == null ? null : jar.getParent().getParent().getParent();
    String commit = root == null ? null : git(root, "rev-parse", "--short", "HEAD");
    String dirty = root == null ? null : git(root, "status", "--porcelain", "--untracked-files=no");
    return jar + " (built " + built + (commit == null ? "" : ", checkout " + commit.trim()
        + (dirty == null || dirty.isBlank() ? "" : " + " + dirty.lines().count() + " uncommitted files")) + ")";
  }

  private static String git(Path dir, String... args) {
    try {
      List<String> command = new ArrayList<>(List.of("git", "-C", dir.toString()));
      command.addAll(List.of(args));
      Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      p.getErrorStream().readAllBytes();
      return p.waitFor() == 0 ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static Path require(Path jar) {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " does not exist");
    }
    return jar;
  }

  private static int port(String readyLine) {
    // "Kiln is ready at http://127.0.0.1:PORT (started in ...)"
    String rest = readyLine.substring(readyLine.indexOf("http://"));
    rest = rest.split("[ )]")[0];
    return URI.create(rest).getPort();
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String memory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return String.format("%.1f GiB RAM", kb / 1024.0 / 1024.0);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return "RAM n/a";
  }

  // ------------------------------------------------------------------------------------ clients

  private static InvokeClient client(String kind, URI endpoint, Signer signer) {
    return switch (kind.toLowerCase(Locale.ROOT)) {
      case "raw" -> new RawHttpClient(endpoint, signer);
      case "jdk" -> new JdkHttpClient(endpoint, signer);
      case "sdk-url" -> new SdkClient(endpoint, ACCESS_KEY, SECRET_KEY, SdkClient.Http.URL_CONNECTION);
      case "sdk-apache5" -> new SdkClient(endpoint, ACCESS_KEY, SECRET_KEY, SdkClient.Http.APACHE5);
      default -> throw new IllegalArgumentException("--client is raw, jdk, sdk-url or sdk-apache5, not " + kind);
    };
  }

  /** The first invoke of a fresh function: checks the reply and prints it with its REPORT figures. */
  private void firstInvoke(InvokeClient c, Functions.Spec spec) throws IOException {
    long t0 = System.nanoTime();
    InvokeClient.Reply reply = c.invoke(spec.functionName(), Load.PAYLOAD, true);
    double ms = (System.nanoTime() - t0) / 1e6;
    Functions.Report report = Functions.Report.parse(reply.logResult());
    String body = reply.bodyText().replaceAll("\\s", "");
    if (!reply.ok() || !body.equals("{\"ok\":true}")) {
      throw new IllegalStateException("the first invoke of " + spec.functionName() + " did not return {\"ok\":true}: " + reply);
    }
    log(String.format("first invoke of %s: %s in %.1f ms (REPORT: Duration %s, Init Duration %s)", spec.functionName(),
        reply.bodyText().trim(), ms, fmt(report.durationMs()), fmt(report.initMs())));
  }

  private void compareClients(Functions.Spec spec, URI kilnEndpoint, URI baseEndpoint, Signer signer) throws Exception {
    log("client overhead: each client at concurrency 1 against the baseline and " + spec.functionName());
    Table t = new Table().row("client", "baseline p50", "baseline p99", "kiln p50", "kiln p99", "kiln - baseline p50").rule();
    for (String kind : List.of("raw", "jdk", "sdk-url", "sdk-apache5")) {
      Load.Result b;
      Load.Result k;
      try (InvokeClient base = client(kind, baseEndpoint, signer); InvokeClient kiln = client(kind, kilnEndpoint, signer)) {
        b = Load.run("baseline via " + base.name(), base, "baseline", 1, seconds(0.7), 200, seconds(1.5), meter);
        k = Load.run(spec.key() + " via " + kiln.name(), kiln, spec.functionName(), 1, seconds(0.7), 200, seconds(1.5), meter);
      }
      note(b);
      note(k);
      t.row(kind, ms(b.p50Millis()), ms(b.p99Millis()), ms(k.p50Millis()), ms(k.p99Millis()), ms(k.p50Millis() - b.p50Millis()));
    }
    long t0 = System.nanoTime();
    int n = 0;
    URI uri = kilnEndpoint.resolve(InvokeClient.invokePath(spec.functionName()));
    Map<String, String> headers = Map.of("X-Amz-Invocation-Type", "RequestResponse");
    while (System.nanoTime() - t0 < 500_000_000L) {
      signer.sign("POST", uri, headers, Load.PAYLOAD);
      n++;
    }
    double signMicros = (System.nanoTime() - t0) / 1e3 / n;
    System.out.print(indent(t.render()));
    System.out.printf("      SigV4 signing with the SDK signer costs %.1f µs per request (part of every client's figure)%n", signMicros);
  }

  // ------------------------------------------------------------------------------------ measurements

  /**
   * Invokes every function in turn, in one-second rounds at concurrency 4 and N alternately (the
   * concurrent paths need compiling too: without them the first runtime measured at concurrency N
   * came out at half the throughput of the others), until Kiln's JIT
   * compiler threads have been (almost) idle for two rounds in a row, after a minimum number of
   * rounds, or a time limit. The server compiles its hot paths during the first several thousand
   * invokes; without this the runtime measured first looked 2-4x slower than the others.
   */
  private void warmUpServer(URI kilnEndpoint, Signer signer, List<String> functions) throws InterruptedException {
    int minRounds = quick ? 4 : 6;
    int maxRounds = quick ? 15 : 30;
    long quietTicks = 5; // 50 ms of compiler CPU in a one-second round
    List<String> rounds = new ArrayList<>();
    long t0 = System.nanoTime();
    int quiet = 0;
    try (InvokeClient c = client(client, kilnEndpoint, signer)) {
      long compiled = CpuMeter.compilerTicks(kilnPid);
      for (int round = 1; round <= maxRounds; round++) {
        int threads = round % 2 == 1 ? Math.min(4, concurrency) : concurrency;
        Load.Result r = Load.run("server warm-up", c, functions, threads, Duration.ZERO, 0, seconds(1), meter);
        if (r.errors() > 0) {
          problems.add("server warm-up: " + r.errors() + " failed invokes, first: " + r.firstError());
        }
        long now = CpuMeter.compilerTicks(kilnPid);
        long jit = compiled < 0 || now < 0 ? -1 : now - compiled;
        compiled = now;
        rounds.add(String.format("c=%d %,.0f/s (jit %d ms)", threads, r.throughput(), jit * 10));
        quiet = jit >= 0 && jit <= quietTicks ? quiet + 1 : 0;
        if (round >= minRounds && (quiet >= 2 || jit < 0)) {
          break;
        }
      }
    }
    log(String.format("server warm-up (all functions in turn, 1-s rounds, until Kiln's JIT threads idle) for %.1f s:%n"
        + "          %s", (System.nanoTime() - t0) / 1e9, String.join(", ", rounds)));
    if (quiet < 2) {
      log("  NOTE Kiln's JIT compiler was still busy at the end of the warm-up: the first figures may be pessimistic");
    }
  }

  private Load.Result load(String label, InvokeClient c, String function, int threads) throws InterruptedException {
    // At concurrency N each new concurrent request may need a new environment first: warm up longer.
    Duration warm = threads == 1 ? warmup() : warmup().multipliedBy(3).dividedBy(2);
    Load.Result r = Load.run(label, c, function, threads, warm, threads == 1 ? 100 : 30, measure(), meter);
    note(r);
    return r;
  }

  private void note(Load.Result r) {
    log(r.summary());
    busy.add(r.cpu());
    if (r.errors() > 0) {
      problems.add(r.label() + " c=" + r.concurrency() + ": " + r.errors() + " failed invokes, first: " + r.firstError());
    }
  }

  /**
   * Warm invokes with a Tail log, to split the client-observed time into the part inside the
   * environment (REPORT Duration, as the server measures it) and the rest.
   */
  private Samples reportDurations(InvokeClient c, Functions.Spec spec) throws IOException {
    Samples durations = new Samples();
    Samples roundTrips = new Samples();
    int n = quick ? 100 : 300;
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      InvokeClient.Reply reply = c.invoke(spec.functionName(), Load.PAYLOAD, true);
      long elapsed = System.nanoTime() - t0;
      Functions.Report report = Functions.Report.parse(reply.logResult());
      if (reply.ok() && report.durationMs() != null) {
        durations.add((long) (report.durationMs() * 1e6));
        roundTrips.add(elapsed);
      }
    }
    log(String.format("%-22s c=1  %d invokes with a Tail log: REPORT Duration p50 %s p99 %s; round trip p50 %s p99 %s",
        spec.key() + " warm", durations.size(), msOf(durations, 50), msOf(durations, 99), msOf(roundTrips, 50),
        msOf(roundTrips, 99)));
    return durations;
  }

  /** Cold starts: each sample's first invoke runs in an environment created for it. */
  private Cold cold(LambdaClient lambda, InvokeClient c, Functions.Spec spec) throws InterruptedException {
    Cold cold = new Cold();
    List<String> created = new ArrayList<>();
    int samples = coldSamples();
    long phaseStart = System.nanoTime();
    CpuMeter.Snapshot cpu0 = meter.take();
    for (int i = 0; i < samples; i++) {
      String name;
      if (coldVia.equals("create")) {
        name = spec.functionName() + "-cold-" + i;
        Functions.create(lambda, spec, name);
        created.add(name);
        Functions.awaitActive(lambda, name, Duration.ofSeconds(60));
      } else {
        name = spec.functionName();
        String value = i + "-" + System.nanoTime();
        lambda.updateFunctionConfiguration(r -> r.functionName(spec.functionName())
            .environment(e -> e.variables(Map.of("BENCH_COLD", value))));
        Functions.awaitUpdated(lambda, name, Duration.ofSeconds(60));
      }
      Thread.sleep(coldPauseMs);
      // A Tail log makes the server wait for the function's output before it answers, so half the
      // samples are timed without one (the first response as any caller sees it) and half with one
      // (for Init Duration). With --cold-via update every sample needs the log to tell cold from warm.
      boolean tail = !coldVia.equals("create") || i % 2 == 1;
      long t0 = System.nanoTime();
      InvokeClient.Reply reply;
      try {
        reply = c.invoke(name, Load.PAYLOAD, tail);
      } catch (IOException e) {
        cold.failures++;
        cold.firstFailure = cold.firstFailure == null ? e.toString() : cold.firstFailure;
        continue;
      }
      long elapsed = System.nanoTime() - t0;
      if (!reply.ok()) {
        cold.failures++;
        cold.firstFailure = cold.firstFailure == null ? reply.toString() : cold.firstFailure;
        continue;
      }
      if (!tail) {
        cold.latencies.add(elapsed);
        continue;
      }
      Functions.Report report = Functions.Report.parse(reply.logResult());
      if (report.initMs() == null && report.restoreMs() == null) {
        cold.notCold++;
        cold.warmLatencies.add(elapsed);
      } else {
        cold.tailLatencies.add(elapsed);
        if (!coldVia.equals("create")) {
          cold.latencies.add(elapsed);
        }
        if (report.initMs() != null) {
          cold.init.add((long) (report.initMs() * 1e6));
        }
        if (report.restoreMs() != null) {
          cold.restore.add((long) (report.restoreMs() * 1e6));
        }
      }
      if (report.durationMs() != null) {
        cold.duration.add((long) (report.durationMs() * 1e6));
      }
    }
    CpuMeter.Usage cpu = CpuMeter.usage(cpu0, meter.take());
    busy.add(cpu);
    if (spec.key().equals("java")) {
      log("  Java environments started with the runtime's AOT cache (-XX:AOTCache): " + javaAotInUse());
    }
    int sandboxesBefore = sandboxCount();
    for (String name : created) {
      try {
        lambda.deleteFunction(r -> r.functionName(name));
      } catch (RuntimeException e) {
        problems.add("DeleteFunction " + name + " failed: " + e.getMessage());
      }
    }
    if (!created.isEmpty()) {
      Thread.sleep(1000);
      log(String.format("  sandboxes (crun processes under Kiln): %d before deleting the %d cold-start functions,"
          + " %d one second after", sandboxesBefore, created.size(), sandboxCount()));
    }
    log(String.format("%-22s %d samples via %s in %.1f s: first response p50 %s p99 %s (%d without a Tail log);"
            + " with a Tail log p50 %s p99 %s (%d); Init Duration p50 %s p99 %s; REPORT Duration p50 %s%n%31s %s",
        spec.key() + " cold", samples, coldVia, (System.nanoTime() - phaseStart) / 1e9, msOf(cold.latencies, 50),
        msOf(cold.latencies, 99), cold.latencies.size(), msOf(cold.tailLatencies, 50), msOf(cold.tailLatencies, 99),
        cold.tailLatencies.size(), msOf(cold.init, 50), msOf(cold.init, 99), msOf(cold.duration, 50), "", cpu)
        + (cold.restore.size() == 0 ? "" : "\n" + " ".repeat(31) + " Restore Duration p50 " + msOf(cold.restore, 50)));
    if (cold.notCold > 0) {
      String msg = String.format("%s: %d of %d 'cold' invokes carried no Init Duration (an environment was ready"
          + " before the invoke; p50 of those %s)%s", spec.key(), cold.notCold, samples, msOf(cold.warmLatencies, 50),
          coldVia.equals("update") ? ": the server pre-warms replacements on UpdateFunctionConfiguration, use --cold-via create" : "");
      log("  NOTE " + msg);
      problems.add(msg);
    }
    if (cold.failures > 0) {
      problems.add(spec.key() + " cold: " + cold.failures + " failed invokes, first: " + cold.firstFailure);
      log("  FAILED " + cold.failures + " cold invokes, first: " + cold.firstFailure);
    }
    return cold;
  }

  /** How many of the Java runtime processes under Kiln were started with -XX:AOTCache, of how many. */
  private String javaAotInUse() {
    int[] counts = new int[2];
    ProcessHandle.of(kilnPid).ifPresent(p -> p.descendants().forEach(d -> {
      try {
        String cmd = Files.readString(Path.of("/proc/" + d.pid() + "/cmdline")).replace('\0', ' ');
        if (cmd.contains("dev.kiln.runtime.java.Bootstrap")) {
          counts[1]++;
          if (cmd.contains("-XX:AOTCache")) {
            counts[0]++;
          }
        }
      } catch (IOException e) {
        // gone
      }
    }));
    return counts[1] == 0 ? "no Java runtime process found" : counts[0] + " of " + counts[1] + " running";
  }

  /**
   * crun processes directly under the Kiln server: one per sandbox (environments and pre-created
   * ones). By /proc/PID/comm: crun re-executes itself from a memfd, so its executable path says little.
   */
  private int sandboxCount() {
    return ProcessHandle.of(kilnPid).map(p -> (int) p.children().filter(c -> {
      try {
        return Files.readString(Path.of("/proc/" + c.pid() + "/comm")).trim().equals("crun");
      } catch (IOException e) {
        return false;
      }
    }).count()).orElse(-1);
  }

  static final class Cold {
    /** First-response latencies of cold starts (without a Tail log, unless --cold-via update). */
    final Samples latencies = new Samples();
    /** First-response latencies of cold starts timed with a Tail log. */
    final Samples tailLatencies = new Samples();
    final Samples warmLatencies = new Samples();
    final Samples init = new Samples();
    final Samples restore = new Samples();
    final Samples duration = new Samples();
    int notCold;
    int failures;
    String firstFailure;
  }

  static final class Results {
    final String name;
    Load.Result c1;
    Load.Result cN;
    Samples reportDuration = new Samples();
    Cold cold;

    Results(String name) {
      this.name = name;
    }
  }

  // ------------------------------------------------------------------------------------ admission on vs off

  /** Warm-invoke figures of the same function on the normal server and on one with admission bypassed. */
  record AdmissionCompare(String function, List<Load.Result> on, List<Load.Result> off) {
    void print(int concurrency) {
      System.out.println();
      System.out.printf("=== Admission on vs off (%s warm, c=1 and c=%d, alternating runs on two servers of the same"
          + " build; off = --bench-bypass-admission)%n", function, concurrency);
      Table t = new Table().row("server", "run", "p50 c=1", "inv/s c=1", "p50 c=" + concurrency,
          "inv/s c=" + concurrency, "kiln JVM CPU/invoke c=" + concurrency).rule();
      for (int i = 0; i < on.size() / 2; i++) {
        row(t, "admission on", i, on);
        row(t, "admission off", i, off);
      }
      double onRate = meanThroughput(on, 1);
      double offRate = meanThroughput(off, 1);
      double onP50 = meanP50(on, 0);
      double offP50 = meanP50(off, 0);
      double onCpu = meanCpuMicros(on);
      double offCpu = meanCpuMicros(off);
      t.rule().row("on / off", "mean", ratio(onP50 / offP50), ratio(meanThroughput(on, 0) / meanThroughput(off, 0)),
          ratio(meanP50(on, 1) / meanP50(off, 1)), ratio(onRate / offRate), ratio(onCpu / offCpu));
      System.out.print(t.render());
      System.out.printf("with admission: throughput at c=%d %s (%,.0f vs %,.0f inv/s), p50 at c=1 %s, Kiln JVM CPU per"
          + " invoke %s (%.0f vs %.0f µs); CPU per invoke is the least noisy of the three on a shared machine%n",
          concurrency, signedPercent(onRate / offRate - 1), onRate, offRate, signedMs(onP50 - offP50),
          signedPercent(onCpu / offCpu - 1), onCpu, offCpu);
    }

    private static void row(Table t, String name, int round, List<Load.Result> runs) {
      Load.Result c1 = runs.get(2 * round);
      Load.Result cN = runs.get(2 * round + 1);
      t.row(name, String.valueOf(round + 1), ms(c1.p50Millis()), rate(c1), ms(cN.p50Millis()), rate(cN),
          perInvoke(cN.cpu().kiln(), cN));
    }

    /** Mean Kiln JVM CPU microseconds per invoke over the c=N runs. */
    private static double meanCpuMicros(List<Load.Result> runs) {
      return java.util.stream.IntStream.range(0, runs.size()).filter(i -> i % 2 == 1)
          .mapToDouble(i -> runs.get(i).cpu().kiln() / runs.get(i).throughput() * 1e6).average().orElse(Double.NaN);
    }

    private static String signedMs(double millis) {
      return (millis >= 0 ? "+" : "") + ms(millis);
    }

    /** Mean over the runs at one concurrency: index 0 is c=1, 1 is c=N. */
    private static double meanThroughput(List<Load.Result> runs, int which) {
      return java.util.stream.IntStream.range(0, runs.size()).filter(i -> i % 2 == which)
          .mapToDouble(i -> runs.get(i).throughput()).average().orElse(Double.NaN);
    }

    private static double meanP50(List<Load.Result> runs, int which) {
      return java.util.stream.IntStream.range(0, runs.size()).filter(i -> i % 2 == which)
          .mapToDouble(i -> runs.get(i).p50Millis()).average().orElse(Double.NaN);
    }

    private static String signedPercent(double x) {
      return Double.isNaN(x) ? "-" : String.format("%+.1f%%", 100 * x);
    }
  }

  /**
   * Starts a second server with admission bypassed, warms it up, then measures the same function on
   * both servers in alternating runs, so that drift in the machine's load hits both alike.
   */
  private AdmissionCompare compareAdmission(Path jar, Path work, Cleanup cleanup, Functions.Spec spec, URI kilnEndpoint,
      Signer signer) throws Exception {
    ChildProcess bypass = startKiln(jar, work.resolve("data-no-admission"), List.of("--bench-bypass-admission"), cleanup);
    URI bypassEndpoint = URI.create("http://127.0.0.1:" + port(bypass.readyLine()));
    log("admission off: " + bypass.readyLine());
    try (LambdaClient lambda = SdkClient.lambdaClient(bypassEndpoint, ACCESS_KEY, SECRET_KEY, SdkClient.Http.URL_CONNECTION)) {
      Functions.create(lambda, spec, spec.functionName());
      Functions.awaitActive(lambda, spec.functionName(), Duration.ofSeconds(60));
    }
    List<Load.Result> on = new ArrayList<>();
    List<Load.Result> off = new ArrayList<>();
    try (InvokeClient withAdmission = client(client, kilnEndpoint, signer);
        InvokeClient without = client(client, bypassEndpoint, signer)) {
      firstInvoke(without, spec);
      // The second JVM compiles its hot paths now; the first one was warmed up before the main runs.
      for (int round = 0; round < (quick ? 4 : 8); round++) {
        Load.run("admission-off warm-up", without, List.of(spec.functionName()), round % 2 == 0 ? 1 : concurrency,
            Duration.ZERO, 0, seconds(1), meter);
      }
      int rounds = quick ? 1 : 2;
      for (int round = 0; round < rounds; round++) {
        for (int threads : new int[] {1, concurrency}) {
          on.add(load(spec.key() + " admission on", withAdmission, spec.functionName(), threads));
          meter.watch(bypass.pid(), baselinePid);
          off.add(load(spec.key() + " admission off", without, spec.functionName(), threads));
          meter.watch(kilnPid, baselinePid);
        }
      }
    }
    if (!bypass.isAlive()) {
      problems.add("the admission-off server exited during the run; its last output:\n" + bypass.lastOutput());
    }
    return new AdmissionCompare(spec.key(), on, off);
  }

  // ------------------------------------------------------------------------------------ printing

  private void printSummary(Results base, Map<String, Results> results, String loadAtStart, ChildProcess kiln, Path jar) {
    String n = String.valueOf(concurrency);
    System.out.println();
    System.out.printf("=== Kiln invoke benchmark (client %s, payload {}, RequestResponse; latency = client-observed round trip)%n", client);
    Table t = new Table().row("runtime", "warm p50", "warm p99", "inv/s c=1", "p50 c=" + n, "p99 c=" + n, "inv/s c=" + n,
        "cold p50", "cold p99", "cold+Tail p50", "init p50").rule();
    for (Results r : results.values()) {
      t.row(r.name, ms(r.c1.p50Millis()), ms(r.c1.p99Millis()), rate(r.c1), ms(r.cN.p50Millis()), ms(r.cN.p99Millis()),
          rate(r.cN), msOf(r.cold.latencies, 50), msOf(r.cold.latencies, 99), msOf(r.cold.tailLatencies, 50),
          msOf(r.cold.init, 50));
    }
    t.row(base.name, ms(base.c1.p50Millis()), ms(base.c1.p99Millis()), rate(base.c1), ms(base.cN.p50Millis()),
        ms(base.cN.p99Millis()), rate(base.cN), "-", "-", "-", "-").rule();
    for (Results r : results.values()) {
      t.row(r.name + "/baseline", ratio(r.c1.p50Millis() / base.c1.p50Millis()), ratio(r.c1.p99Millis() / base.c1.p99Millis()),
          ratio(r.c1.throughput() / base.c1.throughput()), ratio(r.cN.p50Millis() / base.cN.p50Millis()),
          ratio(r.cN.p99Millis() / base.cN.p99Millis()), ratio(r.cN.throughput() / base.cN.throughput()), "", "", "", "");
    }
    t.rule();
    for (Results r : results.values()) {
      t.row(r.name + " overhead", ms(r.c1.p50Millis() - base.c1.p50Millis()), ms(r.c1.p99Millis() - base.c1.p99Millis()),
          "", ms(r.cN.p50Millis() - base.cN.p50Millis()), ms(r.cN.p99Millis() - base.cN.p99Millis()), "", "", "", "", "");
    }
    t.rule().row("target", "+0.3 ms", "+2 ms", "", "", "", "10,000 node", "60/50/150", "", "", "");
    System.out.print(t.render());
    System.out.println("overhead = Kiln's figure minus the baseline's (same client, same concurrency); ratio rows are"
        + " Kiln / baseline; cold targets are node/python/java.");
    for (Results r : results.values()) {
      double inEnv = r.reportDuration.percentile(50) / 1e6;
      System.out.printf("%s warm c=1: REPORT Duration p50 %s (runtime API round trip inside the environment), so about %s"
          + " of the %s p50 is the API front end, worker and relay%n", r.name, ms(inEnv), ms(r.c1.p50Millis() - inEnv),
          ms(r.c1.p50Millis()));
    }
    System.out.println();
    System.out.println("=== CPU time per invoke (what limits throughput on this machine: cores used / invokes per second)");
    Table cpu = new Table().row("runtime", "kiln JVM c=1", "sandboxes c=1", "bench c=1", "kiln JVM c=" + n,
        "sandboxes c=" + n, "bench c=" + n, "other cores c=" + n).rule();
    for (Results r : results.values()) {
      cpu.row(r.name, perInvoke(r.c1.cpu().kiln(), r.c1), perInvoke(r.c1.cpu().sandboxes(), r.c1),
          perInvoke(r.c1.cpu().bench(), r.c1), perInvoke(r.cN.cpu().kiln(), r.cN), perInvoke(r.cN.cpu().sandboxes(), r.cN),
          perInvoke(r.cN.cpu().bench(), r.cN), String.format("%.2f", r.cN.cpu().other()));
    }
    cpu.row("baseline", perInvoke(base.c1.cpu().baseline(), base.c1) + " (node)", "-", perInvoke(base.c1.cpu().bench(), base.c1),
        perInvoke(base.cN.cpu().baseline(), base.cN) + " (node)", "-", perInvoke(base.cN.cpu().bench(), base.cN),
        String.format("%.2f", base.cN.cpu().other()));
    System.out.print(cpu.render());
    System.out.println("cold = first response of a new function (--cold-via " + coldVia + "), half the samples timed without a"
        + " Tail log (cold p50/p99) and half with X-Amz-Log-Type: Tail (cold+Tail, whose REPORT line gives init = Init Duration).");

    System.out.println();
    System.out.println("=== DESIGN.md performance targets");
    Table v = new Table().row("target", "measured", "verdict").rule();
    for (Results r : results.values()) {
      double over50 = r.c1.p50Millis() - base.c1.p50Millis();
      double over99 = r.c1.p99Millis() - base.c1.p99Millis();
      v.row("warm overhead p50 <= 0.3 ms (" + r.name + ", c=1)", ms(over50), verdict(over50 <= 0.3));
      v.row("warm overhead p99 <= 2 ms (" + r.name + ", c=1)", ms(over99), verdict(over99 <= 2.0));
    }
    Results node = results.get("node");
    if (node != null) {
      double best = Math.max(node.c1.throughput(), node.cN.throughput());
      v.row("no-op invokes/s, one function, Node >= 10,000", String.format("%,.0f", best), verdict(best >= 10_000));
    }
    Map<String, Double> coldTargets = Map.of("node", 60.0, "python", 50.0, "java", 150.0);
    for (Results r : results.values()) {
      double p50 = r.cold.latencies.percentile(50) / 1e6;
      double target = coldTargets.get(r.name);
      v.row("cold start p50 <= " + (int) target + " ms (" + r.name + (r.name.equals("java") ? ", with AOT cache" : "") + ")",
          ms(p50), Double.isNaN(p50) ? "n/a" : verdict(p50 <= target));
    }
    System.out.print(v.render());

    System.out.println();
    System.out.printf("load average: %s at start, %s at end (%d cores); total bench time %.0f s%n", loadAtStart,
        CpuMeter.loadAverage(), Runtime.getRuntime().availableProcessors(), (System.nanoTime() - startNanos) / 1e9);
    double otherMean = busy.stream().mapToDouble(CpuMeter.Usage::other).filter(d -> !Double.isNaN(d)).average().orElse(Double.NaN);
    double otherMax = busy.stream().mapToDouble(CpuMeter.Usage::other).filter(d -> !Double.isNaN(d)).max().orElse(Double.NaN);
    System.out.printf("other processes used %.2f cores on average (%.2f at most) during the measurements%s%n", otherMean,
        otherMax, otherMean > 0.25 ? ": the machine was shared, so every figure above is pessimistic" : "");
    System.out.printf("server: %s%n", describeJar(jar));
    if (kiln.complaintCount() > 0) {
      System.out.printf("the server printed %d WARN/ERROR/exception lines, the first:%n", kiln.complaintCount());
      kiln.complaints().stream().limit(10).forEach(l -> System.out.println("  " + l));
    }
    if (!problems.isEmpty()) {
      System.out.println("problems and notes:");
      problems.forEach(p -> System.out.println("  - " + p));
    }
  }

  /** CPU microseconds per invoke from cores used during a run and its throughput. */
  private static String perInvoke(double cores, Load.Result r) {
    double us = cores / r.throughput() * 1e6;
    return Double.isNaN(us) || Double.isInfinite(us) ? "-" : String.format("%,.0f µs", us);
  }

  private static String verdict(boolean met) {
    return met ? "met" : "MISSED";
  }

  private static String rate(Load.Result r) {
    return Double.isNaN(r.throughput()) ? "-" : String.format("%,.0f", r.throughput());
  }

  private static String ratio(double x) {
    return Double.isNaN(x) || Double.isInfinite(x) ? "-" : String.format("%.2fx", x);
  }

  static String ms(double millis) {
    if (Double.isNaN(millis)) {
      return "-";
    }
    double a = Math.abs(millis);
    return a < 10 ? String.format("%.3f ms", millis) : a < 100 ? String.format("%.1f ms", millis) : String.format("%.0f ms", millis);
  }

  private static String msOf(Samples s, double p) {
    return ms(s.percentile(p) / 1e6);
  }

  private static String fmt(Double ms) {
    return ms == null ? "-" : String.format("%.2f ms", ms);
  }

  private static String indent(String text) {
    return text.lines().map(l -> "      " + l).reduce("", (a, b) -> a + b + "\n");
  }

  private void log(String message) {
    System.out.printf("[%5.1fs] %s%n", (System.nanoTime() - startNanos) / 1e9, message);
    System.out.flush();
  }
}
