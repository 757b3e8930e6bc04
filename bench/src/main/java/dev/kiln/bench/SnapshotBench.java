package dev.kiln.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Start-up snapshots against plain starts, on the built server: per runtime, a function with a non-trivial init,
 * cold-started N times with {@code KILN_SNAPSHOT=off} and N times with snapshots on. The REPORT line of each cold
 * invoke gives the environment's Init Duration (plain) or Restore Duration (snapshot) and its Max Memory Used; for
 * Python the zygote's own memory is read from its cgroup. A program that prints figures, never a test.
 *
 * <p>Each variant is one function invoked N times in a row. The server runs with {@code --keep-alive PT0S}, so the
 * fixed keep-alive retires every environment right after its invocation and the next invoke is cold: the client
 * waits for the whole start, and the bench reports that round trip too. Snapshots are keyed by account and
 * function name, so only the function's own earlier use can have made one; zygotes outlive the zero keep-alive
 * (they are kept at least ten minutes). {@code KILN_ENVIRONMENT_REUSE=per-request} does not give cold starts to
 * time: it starts each successor environment in the background, so the next invoke finds it initialized.
 *
 * <pre>
 * bench/run snapshots             # a few minutes
 * bench/run snapshots --quick
 * </pre>
 */
@Command(name = "kiln-snapshot-bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures start-up snapshots: Init vs Restore Duration and memory per environment, per runtime.")
public final class SnapshotBench implements Callable<Integer> {
  /**
   * Imports a few standard modules and builds a 200k-entry dict at module level: about 100 ms of init and some
   * 30 MB of heap a fork shares with its zygote.
   */
  private static final String PYTHON = """
      import json, decimal, email.parser, email.policy, hashlib, re
      TABLE = {"key-%d" % i: decimal.Decimal(i) / 7 for i in range(200_000)}
      PARSER = email.parser.Parser(policy=email.policy.default)
      PATTERN = re.compile(r"key-(\\d+)")

      def lambda_handler(event, context):
          n = int(PATTERN.match("key-4711").group(1))
          return {"ok": True, "v": json.dumps(str(TABLE["key-%d" % n])), "h": hashlib.sha256(b"x").hexdigest()[:8]}
      """;

  /** Requires a few built-in modules and builds a 200k-entry Map and a 1 MB buffer at load. */
  private static final String NODE = """
      const crypto = require('crypto'), zlib = require('zlib'), url = require('url'), util = require('util');
      const table = new Map();
      for (let i = 0; i < 200000; i++) table.set('key-' + i, { n: i, s: (i / 7).toFixed(6) });
      const packed = zlib.gzipSync(Buffer.alloc(1 << 20, 'kiln'));
      exports.handler = async () => ({ ok: true, v: table.get('key-4711').s, z: packed.length,
        h: crypto.createHash('sha256').update(util.format('%s', new url.URL('http://x/a').pathname)).digest('hex').slice(0, 8) });
      """;

  /**
   * Builds a 200k-entry map in its static initializer and touches java.time, java.math, regex, streams and
   * MessageDigest, so class loading and the heap both have something to do.
   */
  private static final String JAVA = """
      package bench;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.math.BigDecimal;
      import java.math.MathContext;
      import java.security.MessageDigest;
      import java.time.Instant;
      import java.time.ZoneOffset;
      import java.util.HashMap;
      import java.util.HexFormat;
      import java.util.Map;
      import java.util.regex.Pattern;
      import java.util.stream.Collectors;
      import java.util.stream.IntStream;

      public class Handler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
        private static final Map<String, BigDecimal> TABLE = new HashMap<>();
        private static final Pattern KEY = Pattern.compile("key-(\\\\d+)");
        private static final String STARTED;
        private static final String DIGEST;
        static {
          for (int i = 0; i < 200_000; i++) {
            TABLE.put("key-" + i, BigDecimal.valueOf(i).divide(BigDecimal.valueOf(7), MathContext.DECIMAL64));
          }
          STARTED = Instant.now().atZone(ZoneOffset.UTC).toLocalDate().toString();
          try {
            DIGEST = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
                IntStream.range(0, 1000).mapToObj(Integer::toString).collect(Collectors.joining(",")).getBytes()));
          } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
          }
        }

        @Override
        public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
          var m = KEY.matcher("key-4711");
          m.matches();
          return Map.of("ok", true, "v", TABLE.get("key-" + m.group(1)).toPlainString(), "d", DIGEST.substring(0, 8),
              "s", STARTED);
        }
      }
      """;

  private static final Pattern STAT = Pattern.compile("\"(restores|zygotes)\"\\s*:\\s*(\\d+)");
  private static final int IDLE_ENVIRONMENTS = 10;

  @Option(names = "--quick", description = "15 cold starts per variant instead of 40, shorter snapshot wait.")
  boolean quick;

  @Option(names = "--samples", description = "Cold starts measured per variant (default 40, quick 15).")
  Integer samples;

  @Option(names = "--runtimes", split = ",", defaultValue = "python,node,java",
      description = "Which of python, node, java (default: ${DEFAULT-VALUE}).")
  List<String> runtimes;

  @Option(names = "--java-runtime", defaultValue = "java25", description = "java21 or java25 (default: ${DEFAULT-VALUE}).")
  String javaRuntime;

  @Option(names = "--snapshot-wait", description = "Seconds of warm-up invokes to wait for a snapshot (default 60, quick 30).")
  Integer snapshotWaitSeconds;

  @Option(names = "--kiln-jar", description = "The server jar (default: cli/target/kiln.jar of this checkout).")
  Path kilnJar;

  private final long startNanos = System.nanoTime();

  /** One runtime's function: Lambda runtime id, handler, package, memory. */
  private record Subject(String key, String runtime, String handler, byte[] zip, int memoryMb, String init) {}

  /** What one variant measured over its cold starts. */
  private record Variant(String label, Samples startMicros, Samples memoryMb, Samples clientMicros, String note) {
    static Variant none(String label, String note) {
      return new Variant(label, new Samples(), new Samples(), new Samples(), note);
    }
  }

  private record Outcome(Subject subject, Variant plain, Variant snapshot, OptionalLong zygoteBytes,
      String zygoteNote) {}

  public static void main(String[] args) {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.exit(new CommandLine(new SnapshotBench()).execute(args));
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

  private int run(Cleanup cleanup) throws Exception {
    String loadAtStart = CpuMeter.loadAverage();
    int n = samples != null ? samples : quick ? 15 : 40;
    Duration snapshotWait = Duration.ofSeconds(snapshotWaitSeconds != null ? snapshotWaitSeconds : quick ? 30 : 60);
    System.out.printf("kiln-snapshot-bench %s %s%n", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME),
        quick ? "(--quick)" : "");
    System.out.printf("machine: %d cores, load average %s; java %s%n", Runtime.getRuntime().availableProcessors(),
        loadAtStart, Runtime.version());
    Path work = Files.createTempDirectory("kiln-snapshot-bench-");
    cleanup.add(() -> Cleanup.deleteTree(work));
    ChildProcess kiln = startKiln(jar(), work, cleanup);
    URI endpoint = URI.create(kiln.readyLine().replaceAll(".*(http://[0-9.]+:[0-9]+).*", "$1"));
    log("Kiln: " + kiln.readyLine());
    Signer signer = new Signer(InvokeBench.ACCESS_KEY, InvokeBench.SECRET_KEY, InvokeBench.REGION);

    List<Outcome> outcomes = new ArrayList<>();
    try (LambdaClient lambda = SdkClient.lambdaClient(endpoint, InvokeBench.ACCESS_KEY, InvokeBench.SECRET_KEY,
            SdkClient.Http.URL_CONNECTION);
        SdkClient client = new SdkClient(endpoint, InvokeBench.ACCESS_KEY, InvokeBench.SECRET_KEY,
            SdkClient.Http.URL_CONNECTION);
        HttpClient http = HttpClient.newHttpClient()) {
      for (String key : runtimes) {
        Subject subject = subject(key, work);
        log("=== " + subject.runtime() + ": " + subject.init());
        String plainFunction = "snap-bench-" + key + "-plain";
        create(lambda, subject, plainFunction, Map.of("KILN_SNAPSHOT", "off"), true);
        Variant plain = variant(client, subject, plainFunction, "plain (KILN_SNAPSHOT=off)", n, false);
        lambda.deleteFunction(r -> r.functionName(plainFunction));
        String snapFunction = "snap-bench-" + key + "-snap";
        create(lambda, subject, snapFunction, Map.of(), true);
        Variant snapshot;
        OptionalLong zygote = OptionalLong.empty();
        String zygoteNote = "";
        String unavailable = awaitRestore(client, kiln, subject, snapFunction, snapshotWait);
        if (unavailable != null) {
          log("no snapshot for " + subject.runtime() + ": " + unavailable);
          snapshot = Variant.none("snapshot (auto)", "no snapshot for " + subject.runtime() + " (" + unavailable + ")");
        } else {
          snapshot = variant(client, subject, snapFunction, "snapshot (auto)", n, true);
          if (key.equals("python")) {
            zygote = zygoteMemoryBytes(snapFunction);
            zygoteNote = zygote.isPresent() ? "" : "zygote's cgroup not found (needs root to read /proc/*/environ)";
          }
        }
        log("stats after " + subject.runtime() + ": " + stats(http, endpoint, signer));
        lambda.deleteFunction(r -> r.functionName(snapFunction));
        outcomes.add(new Outcome(subject, plain, snapshot, zygote, zygoteNote));
      }
    }
    printTable(outcomes, n);
    System.out.printf("load average: %s at start, %s at end; total %.0f s%n", loadAtStart, CpuMeter.loadAverage(),
        (System.nanoTime() - startNanos) / 1e9);
    return 0;
  }

  // ------------------------------------------------------------------------------------ measurements

  /**
   * {@code n} cold starts of one function, one at a time: the server's zero keep-alive retires each environment
   * right after its invocation, so every invoke (with a Tail log) finds none and the client waits for the whole
   * start. A sample counts only when its REPORT carries the variant's start figure, Init Duration (plain) or Restore
   * Duration (snapshot); the others are dropped and counted: a plain boot in the snapshot variant, and an invoke
   * with neither figure, which found a warm environment. A pause of twice the last start (at least 200 ms, at most
   * 3 s) lets the retired environment be torn down before the next start competes with it for the two cores.
   */
  private Variant variant(SdkClient client, Subject subject, String function, String label, int n, boolean snapshot)
      throws IOException, InterruptedException {
    Samples starts = new Samples(n);
    Samples memory = new Samples(n);
    Samples clientMicros = new Samples(n);
    int warm = 0;
    int otherStart = 0;
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      var reply = client.invoke(function, Load.PAYLOAD, true);
      long micros = (System.nanoTime() - t0) / 1000;
      if (!reply.ok()) {
        throw new IllegalStateException(function + " invoke failed: " + reply);
      }
      var report = Functions.Report.parse(reply.logResult());
      Double start = snapshot ? report.restoreMs() : report.initMs();
      Double unexpected = snapshot ? report.initMs() : report.restoreMs();
      if (start != null) {
        starts.add(Math.round(start * 1000));
        clientMicros.add(micros);
        if (report.maxMemoryMb() != null) {
          memory.add(Math.round(report.maxMemoryMb()));
        }
      } else if (unexpected != null) {
        otherStart++;
      } else {
        warm++;
      }
      Thread.sleep(Math.clamp(start == null ? 500 : Math.round(2 * start), 200, 3000));
    }
    String expected = snapshot ? "Restore" : "Init";
    String other = snapshot ? "Init" : "Restore";
    List<String> dropped = new ArrayList<>();
    if (warm > 0) {
      dropped.add(warm + " with neither Init nor Restore Duration (warm)");
    }
    if (otherStart > 0) {
      dropped.add(otherStart + " with " + other + " instead of " + expected + " Duration");
    }
    String note = dropped.isEmpty() ? null : "dropped " + String.join(", ", dropped) + " of " + n + " invokes";
    log(String.format("%s %s: %d of %d invokes cold with %s Duration, p50 %s p99 %s; client round trip p50 %s p99 %s;"
            + " Max Memory Used p50 %s MB%s", subject.runtime(), label, starts.size(), n, expected,
        InvokeBench.ms(starts.percentile(50) / 1e3), InvokeBench.ms(starts.percentile(99) / 1e3),
        InvokeBench.ms(clientMicros.percentile(50) / 1e3), InvokeBench.ms(clientMicros.percentile(99) / 1e3),
        mb(memory.percentile(50)), note == null ? "" : "; " + note));
    return new Variant(label, starts, memory, clientMicros, note);
  }

  /**
   * Invokes the snapshot variant's function (each invoke cold, as the samples) until one reports a Restore
   * Duration; returns null then, or why not. Node.js and Java snapshots are made in the background after the
   * function's first use, a Python zygote on it. Gives up early when Kiln logs that the function gets no snapshot.
   */
  private String awaitRestore(SdkClient client, ChildProcess kiln, Subject subject, String function, Duration limit)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    int tries = 0;
    while (System.nanoTime() < deadline) {
      var reply = client.invoke(function, Load.PAYLOAD, true);
      tries++;
      if (!reply.ok()) {
        throw new IllegalStateException(function + " invoke failed: " + reply);
      }
      if (Functions.Report.parse(reply.logResult()).restoreMs() != null) {
        log(subject.runtime() + ": first Restore Duration on warm-up invoke " + tries);
        return null;
      }
      for (String line : kiln.lastOutput().lines().toList()) {
        if (line.contains("no snapshot: function=" + function + " ") || line.contains("no zygote: function=" + function + " ")) {
          return line.replaceAll(".*(no (snapshot|zygote): )", "$1");
        }
      }
      Thread.sleep(500);
    }
    return "no Restore Duration within " + limit.toSeconds() + " s (" + tries + " warm-up invokes)";
  }

  /**
   * The memory the zygote's cgroup uses now (its processes, their page cache), found from the host: the process
   * started with {@code _KILN_ZYGOTE_SOCKET} for this function whose parent was not (forks inherit the variable
   * but live in cgroups of their own). Reading other processes' environ needs root.
   */
  static OptionalLong zygoteMemoryBytes(String functionName) {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        String env = environ(proc);
        if (!env.contains("\0_KILN_ZYGOTE_SOCKET=") && !env.startsWith("_KILN_ZYGOTE_SOCKET=")
            || !env.contains("AWS_LAMBDA_FUNCTION_NAME=" + functionName + "\0")) {
          continue;
        }
        String stat = Files.readString(proc.resolve("stat"));
        String parent = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1];
        if (environ(Path.of("/proc", parent)).contains("_KILN_ZYGOTE_SOCKET=")) {
          continue;
        }
        for (String line : Files.readAllLines(proc.resolve("cgroup"))) {
          String[] f = line.split(":", 3);
          if (f.length == 3 && List.of(f[1].split(",")).contains("memory")) {
            Path usage = Path.of("/sys/fs/cgroup/memory" + f[2], "memory.usage_in_bytes");
            return OptionalLong.of(Long.parseLong(Files.readString(usage).trim()));
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }

  private static String environ(Path proc) {
    try {
      return new String(Files.readAllBytes(proc.resolve("environ")), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return ""; // gone, or not ours to read
    }
  }

  /** {@code restores} and {@code zygotes} of GET /kiln/v1/stats. */
  private static String stats(HttpClient http, URI endpoint, Signer signer) throws IOException, InterruptedException {
    URI uri = endpoint.resolve("/kiln/v1/stats");
    var request = HttpRequest.newBuilder(uri).GET();
    for (var h : signer.sign("GET", uri, new LinkedHashMap<>(), new byte[0])) {
      if (!h.getKey().equalsIgnoreCase("host")) {
        request.header(h.getKey(), h.getValue());
      }
    }
    String body = http.send(request.build(), HttpResponse.BodyHandlers.ofString()).body();
    Map<String, String> found = new LinkedHashMap<>();
    Matcher m = STAT.matcher(body);
    while (m.find()) {
      found.putIfAbsent(m.group(1), m.group(2));
    }
    return found.isEmpty() ? "no restores/zygotes counters in " + body.substring(0, Math.min(200, body.length()))
        : found.toString();
  }

  // ------------------------------------------------------------------------------------ report

  private void printTable(List<Outcome> outcomes, int n) {
    System.out.println();
    System.out.printf("=== Kiln start-up snapshots (%d sequential invokes of one function per variant, each cold under"
        + " --keep-alive PT0S; cold = Init Duration (plain) or Restore Duration (snapshot) from REPORT;"
        + " client = that invoke's round trip)%n", n);
    Table t = new Table().row("runtime", "variant", "cold p50", "cold p99", "client p50", "client p99",
        "per-env memory p50", "cold ratio", "memory ratio", IDLE_ENVIRONMENTS + " idle envs").rule();
    List<String> targets = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    for (Outcome o : outcomes) {
      String runtime = o.subject().runtime();
      double plainCold = o.plain().startMicros().percentile(50) / 1e3;
      double plainMem = o.plain().memoryMb().percentile(50);
      t.row(runtime, o.plain().label(), InvokeBench.ms(plainCold),
          InvokeBench.ms(o.plain().startMicros().percentile(99) / 1e3), clientMs(o.plain(), 50), clientMs(o.plain(), 99),
          mb(plainMem) + " MB", "1.00x", "1.00x",
          mb(IDLE_ENVIRONMENTS * plainMem) + " MB");
      Variant s = o.snapshot();
      double snapCold = s.startMicros().percentile(50) / 1e3;
      double snapMem = s.memoryMb().percentile(50);
      double zygoteMb = o.zygoteBytes().isPresent() ? o.zygoteBytes().getAsLong() / (1024.0 * 1024) : 0;
      if (s.startMicros().size() == 0) {
        t.row(runtime, s.label(), "no snapshot", "-", "-", "-", "-", "-", "-", "-");
      } else {
        t.row(runtime, s.label(), InvokeBench.ms(snapCold), InvokeBench.ms(s.startMicros().percentile(99) / 1e3),
            clientMs(s, 50), clientMs(s, 99), mb(snapMem) + " MB", ratio(snapCold / plainCold), ratio(snapMem / plainMem),
            mb(IDLE_ENVIRONMENTS * snapMem + zygoteMb) + " MB" + (o.zygoteBytes().isPresent() ? " (incl. zygote)" : ""));
        if (o.zygoteBytes().isPresent()) {
          t.row(runtime, "  zygote (once per function)", "-", "-", "-", "-", mb(zygoteMb) + " MB", "", "", "");
        }
      }
      if (o.plain().note() != null) notes.add(runtime + " plain: " + o.plain().note());
      if (s.note() != null) notes.add(runtime + " snapshot: " + s.note());
      if (!o.zygoteNote().isEmpty()) notes.add(runtime + ": " + o.zygoteNote());
      boolean has = s.startMicros().size() > 0;
      String why = has ? "" : " (no snapshot for " + runtime + ")";
      switch (o.subject().key()) {
        case "python" -> targets.add(String.format("Python restore p50 <= 15 ms: %s %s%s", has ? InvokeBench.ms(snapCold) : "-",
            has && snapCold <= 15 ? "PASS" : "MISS", why));
        case "java" -> {
          double total = s.clientMicros().percentile(50) / 1e3;
          targets.add(String.format("Java total cold start (client round trip) with AOT cache p50 <= 150 ms: %s %s%s",
              has ? InvokeBench.ms(total) : "-", has && total <= 150 ? "PASS" : "MISS", why));
        }
        case "node" -> targets.add(String.format("Node snapshot start p50 below plain start p50 (%s): %s %s%s",
            InvokeBench.ms(plainCold), has ? InvokeBench.ms(snapCold) : "-", has && snapCold < plainCold ? "PASS" : "MISS", why));
        default -> { }
      }
    }
    System.out.print(t.render());
    System.out.printf("%d idle envs = %d x per-env Max Memory Used p50 (+ the zygote once, read from its cgroup's"
        + " memory.usage_in_bytes); a fork's copy-on-write pages shared with the zygote are charged to the zygote;"
        + " REPORT gives whole MB, at least 1.%n",
        IDLE_ENVIRONMENTS, IDLE_ENVIRONMENTS);
    System.out.println("Each variant is one function invoked sequentially; the server's --keep-alive PT0S retires every"
        + " environment after its invocation, so each invoke is a cold start (zygotes are kept at least 10 minutes)."
        + " Samples whose REPORT lacks the variant's Init/Restore Duration are dropped and counted under notes.");
    System.out.println("targets:");
    targets.forEach(x -> System.out.println("  " + x));
    if (!notes.isEmpty()) {
      System.out.println("notes:");
      notes.forEach(x -> System.out.println("  " + x));
    }
    System.out.println("functions:");
    for (Outcome o : outcomes) {
      System.out.println("  " + o.subject().runtime() + " init: " + o.subject().init());
    }
  }

  // ------------------------------------------------------------------------------------ plumbing

  private Subject subject(String key, Path work) {
    return switch (key) {
      case "python" -> new Subject(key, "python3.12", "lambda_function.lambda_handler",
          Functions.zip(Map.of("lambda_function.py", PYTHON)), 256,
          "imports json, decimal, email.parser/policy, hashlib, re; builds a 200k-entry dict of Decimals at module level");
      case "node" -> new Subject(key, "nodejs22.x", "index.handler", Functions.zip(Map.of("index.js", NODE)), 256,
          "requires crypto, zlib, url, util; builds a 200k-entry Map and gzips 1 MB at load");
      case "java" -> new Subject(key, javaRuntime, "bench.Handler::handleRequest",
          Functions.javaZip(work.resolve("java-snapshot"), JAVA), 512,
          "static initializer builds a 200k-entry HashMap of BigDecimals; uses java.time, regex, streams, MessageDigest");
      default -> throw new CommandLine.ParameterException(new CommandLine(this),
          "unknown runtime '" + key + "': use python, node or java");
    };
  }

  private void create(LambdaClient lambda, Subject s, String name, Map<String, String> environment, boolean verbose)
      throws InterruptedException {
    long t0 = System.nanoTime();
    lambda.createFunction(r -> r.functionName(name)
        .runtime(s.runtime())
        .handler(s.handler())
        .role(Functions.ROLE)
        .memorySize(s.memoryMb())
        .timeout(60)
        .environment(e -> e.variables(environment))
        .code(c -> c.zipFile(SdkBytes.fromByteArray(s.zip()))));
    Functions.awaitActive(lambda, name, Duration.ofSeconds(120));
    if (verbose) {
      log(String.format("created %s (%s, %d MB, %s): Active after %.0f ms", name, s.runtime(), s.memoryMb(),
          environment, (System.nanoTime() - t0) / 1e6));
    }
  }

  private ChildProcess startKiln(Path jar, Path work, Cleanup cleanup) throws IOException {
    Path data = Files.createDirectories(work.resolve("data"));
    List<String> command = KilnUp.command(jar, data, List.of("--keep-alive", "PT0S"));
    log("starting Kiln: " + String.join(" ", command));
    return KilnUp.start("kiln", command, work, cleanup, "kiln-snapshot-bench");
  }

  private Path jar() {
    if (kilnJar != null) {
      return kilnJar.toAbsolutePath().normalize();
    }
    for (Path p : List.of(Path.of("cli/target/kiln.jar"), Path.of("../cli/target/kiln.jar"))) {
      if (Files.isRegularFile(p)) {
        return p.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException("cli/target/kiln.jar not found: build it or pass --kiln-jar");
  }

  private static String clientMs(Variant v, double p) {
    return InvokeBench.ms(v.clientMicros().percentile(p) / 1e3);
  }

  private static String mb(double value) {
    return Double.isNaN(value) ? "-" : String.format("%,.0f", value);
  }

  private static String ratio(double x) {
    return Double.isNaN(x) || Double.isInfinite(x) ? "-" : String.format("%.2fx", x);
  }

  private void log(String message) {
    System.out.printf("[%5.1fs] %s%n", (System.nanoTime() - startNanos) / 1e9, message);
    System.out.flush();
  }
}
