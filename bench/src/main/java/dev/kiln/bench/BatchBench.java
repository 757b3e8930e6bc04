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
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.services.lambda.LambdaClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Items per second through a batch job (items checkpointed in the store, invoked by the server)
 * next to the same number of direct synchronous invokes from a client at the same concurrency,
 * with a no-op Node function. A program that prints figures, never a test:
 * {@code java -cp bench/target/kiln-bench.jar dev.kiln.bench.BatchBench [--items N] [--concurrency C]}.
 */
@Command(name = "batch-bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures batch-job throughput against direct synchronous invokes at the same concurrency.")
public final class BatchBench implements Callable<Integer> {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Set<String> RESTRICTED = Set.of("host", "content-length", "connection", "expect");

  @Option(names = "--items", defaultValue = "20000", description = "Items in the batch job and direct invokes measured (default: ${DEFAULT-VALUE}).")
  int items;

  @Option(names = "--concurrency", defaultValue = "8", description = "Invocations in flight, for both (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--direct", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Also measure the direct invokes (default: on; --no-direct for a large batch alone).")
  boolean directOn;

  @Option(names = "--kiln-jar", description = "The server jar (default: cli/target/kiln.jar of this checkout).")
  Path kilnJar;

  private final CpuMeter meter = new CpuMeter();
  private final Signer signer = new Signer(InvokeBench.ACCESS_KEY, InvokeBench.SECRET_KEY, InvokeBench.REGION);
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  private URI endpoint;

  public static void main(String[] args) {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.exit(new CommandLine(new BatchBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    var cleanup = new Cleanup();
    try {
      return run(cleanup);
    } finally {
      cleanup.run();
    }
  }

  private int run(Cleanup cleanup) throws Exception {
    System.out.printf("batch-bench %s: %,d items, concurrency %d, no-op Node function%n",
        ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), items, concurrency);
    System.out.printf("machine: %d cores, load average %s; java %s%n", Runtime.getRuntime().availableProcessors(),
        CpuMeter.loadAverage(), Runtime.version());
    Path work = Files.createTempDirectory("kiln-batch-bench-");
    cleanup.add(() -> Cleanup.deleteTree(work));
    var kiln = startKiln(work, cleanup);
    meter.watch(kiln.pid(), -1);
    var spec = Functions.spec("node", work);
    String function = "bench-batch-noop";
    try (LambdaClient lambda = SdkClient.lambdaClient(endpoint, InvokeBench.ACCESS_KEY, InvokeBench.SECRET_KEY,
        SdkClient.Http.URL_CONNECTION)) {
      lambda.createFunction(r -> r.functionName(function).runtime(spec.runtime()).handler(spec.handler())
          .role(Functions.ROLE).memorySize(spec.memoryMb()).timeout(30)
          .code(c -> c.zipFile(software.amazon.awssdk.core.SdkBytes.fromByteArray(spec.zip()))));
      Functions.awaitActive(lambda, function, Duration.ofSeconds(60));
    }

    // Warm environments and a warm server for both runs.
    direct(function, Math.min(items, 2000), false);
    var table = new Table().row("run", "items", "seconds", "items/s", "kiln CPU").rule();
    Timed plain = null;
    if (directOn) {
      plain = direct(function, items, false);
      table.row("direct sync invokes, c=" + concurrency, fmt(items), secs(plain.seconds()),
          rate(items, plain.seconds()), plain.cpu().toString());
      var tailed = direct(function, items, true);
      table.row("direct sync invokes + log tail, c=" + concurrency, fmt(items), secs(tailed.seconds()),
          rate(items, tailed.seconds()), tailed.cpu().toString());
    }
    var batch = batch(function);
    table.row("batch upload (API pages)", fmt(items), secs(batch.uploadSeconds()),
        rate(items, batch.uploadSeconds()), "");
    table.row("batch job, c=" + concurrency, fmt(items), secs(batch.runSeconds()), rate(items, batch.runSeconds()),
        batch.cpu().toString());
    System.out.println();
    System.out.print(table.render());
    if (plain != null) {
      System.out.printf("%nbatch / direct: %.2f (the batch runner asks for the log tail so an item's log is written"
          + " before it is checkpointed; compare with the second row)%n", plain.seconds() / batch.runSeconds());
    }
    if (!kiln.isAlive()) {
      System.err.println("the Kiln server exited during the run");
      return 1;
    }
    return 0;
  }

  private record Timed(double seconds, CpuMeter.Usage cpu) {}

  /** {@code count} invokes from {@code concurrency} client threads, each taking the next item until none is left. */
  private Timed direct(String function, int count, boolean tail) throws Exception {
    var next = new AtomicInteger();
    var failures = new AtomicLong();
    var cpu = meter.take();
    long t0 = System.nanoTime();
    try (var client = new RawHttpClient(endpoint, signer); var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> threads = new ArrayList<>();
      for (int t = 0; t < concurrency; t++) {
        threads.add(pool.submit(() -> {
          for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
            var reply = client.invoke(function, ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8), tail);
            if (!reply.ok()) {
              failures.incrementAndGet();
            }
          }
          return null;
        }));
      }
      for (var thread : threads) {
        thread.get();
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (failures.get() > 0) {
      System.err.printf("%d of %d direct invokes failed%n", failures.get(), count);
    }
    return new Timed(seconds, CpuMeter.usage(cpu, meter.take()));
  }

  private record BatchRun(double uploadSeconds, double runSeconds, CpuMeter.Usage cpu) {}

  /** Creates a job of {@code items} items, uploads them in pages, starts it and waits until it completed. */
  private BatchRun batch(String function) throws Exception {
    var create = JSON.createObjectNode().put("FunctionName", function).put("TotalItems", items)
        .put("Concurrency", concurrency);
    String jobId = call("POST", "/kiln/v1/batches", create).path("JobId").asString();
    long t0 = System.nanoTime();
    for (int from = 0; from < items; from += 1000) {
      var page = JSON.createObjectNode();
      var list = page.putArray("Items");
      for (int i = from; i < Math.min(items, from + 1000); i++) {
        list.addObject().put("Index", i).put("Line", i + 1)
            .put("Payload", Base64.getEncoder().encodeToString(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)));
      }
      call("POST", "/kiln/v1/batches/" + jobId + "/items", page);
    }
    double upload = (System.nanoTime() - t0) / 1e9;
    var cpu = meter.take();
    call("POST", "/kiln/v1/batches/" + jobId + "/start", JSON.createObjectNode());
    JsonNode job;
    do {
      Thread.sleep(100);
      job = call("GET", "/kiln/v1/batches/" + jobId, null);
    } while (!job.path("State").asString().equals("Completed"));
    var usage = CpuMeter.usage(cpu, meter.take());
    if (job.path("Items").path("Succeeded").asLong() != items) {
      System.err.println("the batch job did not succeed for every item: " + job);
    }
    // The server's own times: from the start to the last item checkpointed.
    double run = Duration.between(Instant.parse(job.path("StartedAt").asString()),
        Instant.parse(job.path("FinishedAt").asString())).toNanos() / 1e9;
    return new BatchRun(upload, run, usage);
  }

  private JsonNode call(String method, String path, JsonNode body) throws IOException, InterruptedException {
    byte[] bytes = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
    URI uri = endpoint.resolve(path);
    Map<String, String> headers = new LinkedHashMap<>();
    if (body != null) {
      headers.put("Content-Type", "application/json");
    }
    var request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(bytes));
    for (var h : signer.sign(method, uri, headers, bytes)) {
      if (!RESTRICTED.contains(h.getKey().toLowerCase(Locale.ROOT))) {
        request.header(h.getKey(), h.getValue());
      }
    }
    var response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() >= 300) {
      throw new IOException(method + " " + path + ": HTTP " + response.statusCode() + " "
          + new String(response.body(), StandardCharsets.UTF_8));
    }
    return response.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(response.body());
  }

  private ChildProcess startKiln(Path work, Cleanup cleanup) throws IOException {
    Path data = Files.createDirectories(work.resolve("data"));
    Path jar = kilnJar != null ? kilnJar.toAbsolutePath().normalize() : locateKilnJar();
    String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    int port = InvokeBench.freePort();
    var kiln = ChildProcess.startAndAwaitLine("kiln", List.of(java, "-jar", jar.toString(), "up", "--host", "127.0.0.1",
        "--port", String.valueOf(port), "--data-dir", data.toString(), "--dev-credentials"), work, "Kiln is ready at",
        Duration.ofSeconds(90));
    cleanup.add(() -> kiln.stop(Duration.ofSeconds(30)));
    endpoint = URI.create("http://127.0.0.1:" + port);
    System.out.println("server: " + jar + " on " + endpoint);
    return kiln;
  }

  private static Path locateKilnJar() {
    for (Path candidate : List.of(Path.of("cli/target/kiln.jar"), Path.of("../cli/target/kiln.jar"))) {
      if (Files.isRegularFile(candidate)) {
        return candidate.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException("cli/target/kiln.jar not found: build it, or pass --kiln-jar");
  }

  private static String fmt(long n) {
    return String.format("%,d", n);
  }

  private static String secs(double s) {
    return String.format("%.1f", s);
  }

  private static String rate(long n, double seconds) {
    return String.format("%,.0f", n / seconds);
  }
}
