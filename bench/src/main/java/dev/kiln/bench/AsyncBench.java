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
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * Asynchronous invocation figures against a synchronous baseline measured in the same run, on the
 * built server: how many Event invokes per second are accepted (each a 202 after a durable commit),
 * how fast the queue is worked off, and the latency from sending an Event to the handler starting,
 * next to the same latency of a synchronous invoke. A program that prints figures, never a test.
 *
 * <pre>
 * bench/run async                 # about a minute
 * bench/run async --quick
 * bench/run async --store-url jdbc:postgresql://127.0.0.1:5432/kiln   # the queue in PostgreSQL
 * </pre>
 */
@Command(name = "kiln-async-bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures asynchronous invocation: Event invokes accepted per second and enqueue-to-handler "
        + "latency, next to synchronous invokes of the same function.")
public final class AsyncBench implements Callable<Integer> {
  /**
   * Logs when the handler started (epoch µs, from the same clock as the sender's), what it was
   * sent, and whether its environment was new (1) or warm (0).
   */
  private static final String STAMP = """
      let fresh = 1;
      exports.handler = async (event) => {
        const startedMicros = Math.round((performance.timeOrigin + performance.now()) * 1000);
        console.log('stamp ' + event.id + ' ' + event.sentMicros + ' ' + startedMicros + ' ' + fresh);
        fresh = 0;
        return {};
      };
      """;
  private static final Pattern STAMP_LINE = Pattern.compile("stamp (\\d+) (\\d+) (\\d+) ([01])");
  private static final Pattern REPORT_LINE = Pattern.compile("REPORT RequestId: ");
  private static final Pattern NEXT_POSITION = Pattern.compile("\"nextPosition\":(\\d+)");

  @Option(names = "--quick", description = "Shorter runs and fewer latency samples.")
  boolean quick;

  @Option(names = "--concurrency", defaultValue = "16", description = "Client threads of the throughput runs (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--measure", description = "Seconds per throughput run (default 5, quick 2).")
  Double measureSeconds;

  @Option(names = "--latency-samples", description = "Events (and synchronous invokes) timed one at a time (default 1000, quick 300).")
  Integer latencySamples;

  @Option(names = "--latency-gap-ms", defaultValue = "5", description = "Pause between two timed sends (default: ${DEFAULT-VALUE}).")
  int latencyGapMs;

  @Option(names = "--store-url", description = "Run the server on this PostgreSQL database instead of its embedded SQLite.")
  String storeUrl;

  @Option(names = "--store-user", defaultValue = "postgres", description = "PostgreSQL user (default: ${DEFAULT-VALUE}).")
  String storeUser;

  @Option(names = "--kiln-jar", description = "The server jar (default: cli/target/kiln.jar of this checkout).")
  Path kilnJar;

  private final long startNanos = System.nanoTime();
  private final CpuMeter meter = new CpuMeter();

  public static void main(String[] args) {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.exit(new CommandLine(new AsyncBench()).execute(args));
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
    System.out.printf("kiln-async-bench %s %s%n", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME),
        quick ? "(--quick)" : "");
    System.out.printf("machine: %d cores, load average %s; java %s%n", Runtime.getRuntime().availableProcessors(),
        loadAtStart, Runtime.version());
    Path work = Files.createTempDirectory("kiln-async-bench-");
    cleanup.add(() -> Cleanup.deleteTree(work));
    ChildProcess kiln = startKiln(jar(), work, cleanup);
    URI endpoint = URI.create(kiln.readyLine().replaceAll(".*(http://[0-9.]+:[0-9]+).*", "$1"));
    log("Kiln: " + kiln.readyLine());
    meter.watch(kiln.pid(), -1);
    Signer signer = new Signer(InvokeBench.ACCESS_KEY, InvokeBench.SECRET_KEY, InvokeBench.REGION);
    List<String> problems = new ArrayList<>();

    try (LambdaClient lambda = SdkClient.lambdaClient(endpoint, InvokeBench.ACCESS_KEY, InvokeBench.SECRET_KEY,
            SdkClient.Http.URL_CONNECTION);
        RawHttpClient client = new RawHttpClient(endpoint, signer);
        HttpClient http = HttpClient.newHttpClient()) {
      var noop = new Functions.Spec("async-noop", "nodejs22.x", "index.handler",
          Functions.zip(Map.of("index.js", "exports.handler = async () => ({ok:true});\n")), 128);
      var stamp = new Functions.Spec("async-stamp", "nodejs22.x", "index.handler",
          Functions.zip(Map.of("index.js", STAMP)), 128);
      for (var spec : List.of(noop, stamp)) {
        Functions.create(lambda, spec, spec.functionName());
        Functions.awaitActive(lambda, spec.functionName(), Duration.ofSeconds(60));
      }
      var logs = new LogReader(http, endpoint, signer);

      // The server's JIT compiles the accept and dispatch paths during the first thousands of events.
      Duration warmup = Duration.ofSeconds(quick ? 3 : 6);
      closedLoop(client, noop.functionName(), "RequestResponse", warmup);
      closedLoop(client, noop.functionName(), "Event", warmup);
      awaitReports(logs, noop.functionName(), Duration.ofSeconds(120));
      log("warm-up done");

      Duration measure = Duration.ofMillis((long) (1000 * (measureSeconds != null ? measureSeconds : quick ? 2 : 5)));
      Run sync = closedLoop(client, noop.functionName(), "RequestResponse", measure);
      log(sync.summary("sync invokes", concurrency));
      long reportsBefore = logs.reports(noop.functionName());
      long t0 = System.nanoTime();
      Run accepted = closedLoop(client, noop.functionName(), "Event", measure);
      log(accepted.summary("Event invokes (202)", concurrency));
      long expected = reportsBefore + accepted.ok();
      long drainedAt = awaitReports(logs, noop.functionName(), Duration.ofSeconds(300), expected);
      double drainSeconds = (drainedAt - t0) / 1e9;
      double handledPerSecond = accepted.ok() / drainSeconds;
      log(String.format("all %,d accepted events ran %.1f s after the first was sent: %,.0f events/s end to end",
          accepted.ok(), drainSeconds, handledPerSecond));

      int samples = latencySamples != null ? latencySamples : quick ? 300 : 1000;
      Samples syncLatency = paced(client, logs, stamp.functionName(), "RequestResponse", samples, 0, problems);
      Samples asyncLatency = paced(client, logs, stamp.functionName(), "Event", samples, samples, problems);

      System.out.println();
      System.out.printf("=== Kiln asynchronous invocation (node no-op, payload {}, c=%d closed loop; latency = send to "
          + "handler start, one at a time every %d ms)%n", concurrency, latencyGapMs);
      Table t = new Table().row("", "per second", "p50", "p99", "cpu (kiln / sandboxes)").rule();
      t.row("sync invokes (baseline)", rate(sync.ok() / sync.seconds()), InvokeBench.ms(sync.latencies().percentile(50) / 1e6),
          InvokeBench.ms(sync.latencies().percentile(99) / 1e6), cpu(sync.cpu()));
      t.row("Event accepted (202)", rate(accepted.ok() / accepted.seconds()),
          InvokeBench.ms(accepted.latencies().percentile(50) / 1e6),
          InvokeBench.ms(accepted.latencies().percentile(99) / 1e6), cpu(accepted.cpu()));
      t.row("Event handled end to end", rate(handledPerSecond), "-", "-", "");
      t.rule();
      t.row("send -> handler start, sync", "", InvokeBench.ms(syncLatency.percentile(50) / 1e3),
          InvokeBench.ms(syncLatency.percentile(99) / 1e3), "");
      t.row("send -> handler start, Event", "", InvokeBench.ms(asyncLatency.percentile(50) / 1e3),
          InvokeBench.ms(asyncLatency.percentile(99) / 1e3), "");
      t.row("Event - sync", "", InvokeBench.ms((asyncLatency.percentile(50) - syncLatency.percentile(50)) / 1e3),
          InvokeBench.ms((asyncLatency.percentile(99) - syncLatency.percentile(99)) / 1e3), "");
      System.out.print(t.render());
      System.out.printf("Event accepted / sync: %.2fx; store: %s; errors: %d sync, %d Event%n",
          (accepted.ok() / accepted.seconds()) / (sync.ok() / sync.seconds()),
          storeUrl == null ? "SQLite (embedded, synchronous=FULL)" : "PostgreSQL " + storeUrl, sync.errors(),
          accepted.errors());
      System.out.printf("load average: %s at start, %s at end; total %.0f s%n", loadAtStart, CpuMeter.loadAverage(),
          (System.nanoTime() - startNanos) / 1e9);
      if (sync.firstError() != null || accepted.firstError() != null) {
        problems.add("first failure: " + (sync.firstError() != null ? sync.firstError() : accepted.firstError()));
      }
    }
    problems.forEach(p -> System.out.println("  - " + p));
    return problems.isEmpty() ? 0 : 1;
  }

  // ------------------------------------------------------------------------------------ measurements

  private record Run(Samples latencies, long errors, double seconds, String firstError, CpuMeter.Usage cpu) {
    long ok() {
      return latencies.size();
    }

    String summary(String label, int concurrency) {
      return String.format("%-20s c=%d: %,d ok in %.1f s = %,.0f/s, p50 %s, p99 %s%s; %s", label, concurrency, ok(),
          seconds, ok() / seconds,
          InvokeBench.ms(latencies.percentile(50) / 1e6), InvokeBench.ms(latencies.percentile(99) / 1e6),
          errors == 0 ? "" : " (" + errors + " FAILED: " + firstError + ")", cpu);
    }
  }

  /** {@code concurrency} threads each sending its next invoke as soon as the last was answered. */
  private Run closedLoop(RawHttpClient client, String function, String type, Duration measure)
      throws InterruptedException {
    int expectedStatus = type.equals("Event") ? 202 : 200;
    List<Samples> perThread = new ArrayList<>();
    LongAdder errors = new LongAdder();
    AtomicReference<String> firstError = new AtomicReference<>();
    long[] window = new long[2];
    CpuMeter.Snapshot[] cpuStart = new CpuMeter.Snapshot[1];
    CyclicBarrier together = new CyclicBarrier(concurrency, () -> {
      cpuStart[0] = meter.take();
      window[0] = System.nanoTime();
      window[1] = window[0] + measure.toNanos();
    });
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      Samples samples = new Samples(1 << 14);
      perThread.add(samples);
      threads.add(Thread.ofPlatform().name("async-load-" + i).start(() -> {
        try {
          together.await();
          while (System.nanoTime() < window[1]) {
            long t0 = System.nanoTime();
            try {
              var reply = client.invoke(function, Load.PAYLOAD, false, type);
              if (reply.status() == expectedStatus && reply.functionError() == null) {
                samples.add(System.nanoTime() - t0);
              } else {
                errors.increment();
                firstError.compareAndSet(null, reply.toString());
              }
            } catch (IOException e) {
              errors.increment();
              firstError.compareAndSet(null, e.toString());
            }
          }
        } catch (Exception e) {
          firstError.compareAndSet(null, e.toString());
        }
      }));
    }
    for (Thread t : threads) {
      t.join();
    }
    CpuMeter.Usage cpu = CpuMeter.usage(cpuStart[0], meter.take());
    Samples all = new Samples(1 << 16);
    perThread.forEach(all::addAll);
    return new Run(all, errors.sum(), (window[1] - window[0]) / 1e9, firstError.get(), cpu);
  }

  /**
   * Sends {@code n} invokes one at a time with a pause between them, each carrying its send time,
   * then reads when each handler started from the function's log. Microseconds.
   */
  private Samples paced(RawHttpClient client, LogReader logs, String function, String type, int n, int firstId,
      List<String> problems) throws IOException, InterruptedException {
    Map<Integer, Long> sent = new HashMap<>();
    Samples replies = new Samples(n);
    for (int i = 0; i < n; i++) {
      int id = firstId + i;
      Instant now = Instant.now();
      long micros = now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
      long t0 = System.nanoTime();
      var reply = client.invoke(function, ("{\"id\":" + id + ",\"sentMicros\":" + micros + "}")
          .getBytes(StandardCharsets.UTF_8), false, type);
      replies.add(System.nanoTime() - t0);
      if (reply.status() != (type.equals("Event") ? 202 : 200)) {
        problems.add(type + " send " + id + " failed: " + reply);
        continue;
      }
      sent.put(id, micros);
      Thread.sleep(latencyGapMs);
    }
    Samples latencies = new Samples(n);
    Samples warm = new Samples(n);
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    Map<Integer, long[]> started = new HashMap<>();
    while (started.size() < sent.size() && System.nanoTime() < deadline) {
      for (var line : logs.newLines(function)) {
        Matcher m = STAMP_LINE.matcher(line);
        if (m.find()) {
          started.put(Integer.parseInt(m.group(1)),
              new long[] {Long.parseLong(m.group(3)) - Long.parseLong(m.group(2)), Long.parseLong(m.group(4))});
        }
      }
      Thread.sleep(200);
    }
    int cold = 0;
    for (var id : sent.keySet()) {
      long[] start = started.get(id);
      if (start == null) {
        problems.add(type + " " + id + " never reached its handler's log");
        continue;
      }
      latencies.add(start[0]);
      if (start[1] == 0) {
        warm.add(start[0]);
      } else {
        cold++;
      }
    }
    log(String.format("%-16s %d timed one at a time: send -> handler start p50 %s p99 %s max %s (%d in a new"
            + " environment; the warm ones p99 %s); reply (%s) p50 %s p99 %s max %s", type, latencies.size(),
        InvokeBench.ms(latencies.percentile(50) / 1e3), InvokeBench.ms(latencies.percentile(99) / 1e3),
        InvokeBench.ms(latencies.max() / 1e3), cold, InvokeBench.ms(warm.percentile(99) / 1e3),
        type.equals("Event") ? "202" : "200", InvokeBench.ms(replies.percentile(50) / 1e6),
        InvokeBench.ms(replies.percentile(99) / 1e6), InvokeBench.ms(replies.max() / 1e6)));
    return latencies;
  }

  /** Waits until every event sent so far has a REPORT line; returns when (nanoTime) the last appeared. */
  private long awaitReports(LogReader logs, String function, Duration timeout) throws IOException, InterruptedException {
    return awaitReports(logs, function, timeout, -1);
  }

  private long awaitReports(LogReader logs, String function, Duration timeout, long expected)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long last = -1;
    long lastChange = System.nanoTime();
    while (System.nanoTime() < deadline) {
      long now = logs.reports(function);
      if (expected >= 0 && now >= expected) {
        return System.nanoTime();
      }
      if (now != last) {
        last = now;
        lastChange = System.nanoTime();
      } else if (expected < 0 && System.nanoTime() - lastChange > 2_000_000_000L) {
        return lastChange;
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("events of " + function + " still unhandled after " + timeout.toSeconds() + " s ("
        + last + " of " + expected + " reported)");
  }

  /** Follows functions' logs through Kiln's log API, signed like any call. */
  private static final class LogReader {
    private final HttpClient http;
    private final URI endpoint;
    private final Signer signer;
    private final Map<String, Long> positions = new HashMap<>();
    private final Map<String, Long> reportCounts = new HashMap<>();

    LogReader(HttpClient http, URI endpoint, Signer signer) {
      this.http = http;
      this.endpoint = endpoint;
      this.signer = signer;
    }

    /** REPORT lines of the function so far. */
    long reports(String function) throws IOException, InterruptedException {
      for (var line : newLines(function)) {
        if (REPORT_LINE.matcher(line).find()) {
          reportCounts.merge(function, 1L, Long::sum);
        }
      }
      return reportCounts.getOrDefault(function, 0L);
    }

    /** Messages appended since the last call for this function (the raw JSON text of each event). */
    List<String> newLines(String function) throws IOException, InterruptedException {
      List<String> lines = new ArrayList<>();
      while (true) {
        long position = positions.getOrDefault(function, 0L);
        URI uri = endpoint.resolve("/kiln/v1/functions/" + function + "/logs?position=" + position + "&limit=10000");
        var request = HttpRequest.newBuilder(uri).GET();
        for (var h : signer.sign("GET", uri, new LinkedHashMap<>(), new byte[0])) {
          if (!h.getKey().equalsIgnoreCase("host")) {
            request.header(h.getKey(), h.getValue());
          }
        }
        String body = http.send(request.build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher next = NEXT_POSITION.matcher(body);
        if (!next.find()) {
          throw new IOException("unexpected log API reply: " + body.substring(0, Math.min(300, body.length())));
        }
        long nextPosition = Long.parseLong(next.group(1));
        // One element per event; the message texts are all this bench looks at.
        for (String event : body.split("\\},\\{")) {
          if (event.contains("\"message\"")) {
            lines.add(event);
          }
        }
        positions.put(function, nextPosition);
        if (nextPosition == position || !body.contains("\"message\"")) {
          return lines;
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------ plumbing

  private ChildProcess startKiln(Path jar, Path work, Cleanup cleanup) throws IOException {
    Path data = Files.createDirectories(work.resolve("data"));
    List<String> store = storeUrl != null ? List.of("--store-url", storeUrl, "--store-user", storeUser) : List.of();
    List<String> command = KilnUp.command(jar, data, store);
    log("starting Kiln: " + String.join(" ", command));
    return KilnUp.start("kiln", command, work, cleanup, "kiln-async-bench");
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

  private static String rate(double perSecond) {
    return Double.isNaN(perSecond) ? "-" : String.format("%,.0f", perSecond);
  }

  private static String cpu(CpuMeter.Usage usage) {
    return Double.isNaN(usage.kiln()) ? "-" : String.format("%.2f / %.2f cores", usage.kiln(), usage.sandboxes());
  }

  private void log(String message) {
    System.out.printf("[%5.1fs] %s%n", (System.nanoTime() - startNanos) / 1e9, message);
    System.out.flush();
  }
}
