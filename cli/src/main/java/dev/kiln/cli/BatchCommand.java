package dev.kiln.cli;

import dev.kiln.control.Batches;
import dev.kiln.core.batch.BatchItem;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code kiln batch FUNCTION --input items.jsonl|DIR}: invokes the function once per item, on the
 * server, checkpointed there. Running the same command again finds the same job (the idempotency
 * key is the SHA-256 of function and input) and resumes it; Ctrl-C pauses it.
 */
@Command(name = "batch", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Invoke a function once for every line of a JSON Lines file, or every file under a folder.",
        "The job runs on the server and survives a closed terminal or a server restart; Ctrl-C pauses it and "
            + "running the same command again resumes it. A folder's files are sent as they are when they hold "
            + "JSON, otherwise as {\"path\": ..., \"body\": <base64>}."},
    subcommands = {BatchCommand.Status.class, BatchCommand.Failures.class, BatchCommand.Pause.class,
        BatchCommand.Resume.class, BatchCommand.Delete.class, BatchCommand.ListJobs.class})
final class BatchCommand implements Callable<Integer> {
  static final JsonMapper JSON = JsonMapper.builder().build();
  /** Failures printed at the end of a run; {@code kiln batch failures} lists them all. */
  private static final int SUMMARY_FAILURES = 10;
  private static final int MAX_PROBLEMS_SHOWN = 20;
  private static final long MAX_PAGE_BYTES = 4L * 1024 * 1024;
  private static final Duration POLL = Duration.ofMillis(500);

  @Parameters(index = "0", arity = "0..1", paramLabel = "FUNCTION", description = "Function name or ARN.")
  String function;

  @Option(names = {"-i", "--input"}, paramLabel = "FILE|DIR", description = "A JSON Lines file (one event per line) or a folder (one event per file).")
  Path input;

  @Option(names = "--qualifier", description = "Version or alias to invoke (default: $LATEST).")
  String qualifier;

  @Option(names = "--concurrency", description = "Invocations in flight at most (default " + Batches.DEFAULT_CONCURRENCY + "; never more than the function's reserved concurrency).")
  Integer concurrency;

  @Option(names = "--max-attempts", description = "Tries per item when the function fails (default " + Batches.DEFAULT_MAX_ATTEMPTS + ").")
  Integer maxAttempts;

  @Option(names = "--detach", description = "Start the job and return; follow it with kiln batch status JOB.")
  boolean detach;

  @Mixin KilnEndpoint endpoint;

  private final PrintStream out = System.out;
  private final PrintStream err = System.err;

  @Override
  public Integer call() throws Exception {
    if (function == null || input == null) {
      err.println("kiln batch: give a FUNCTION and --input FILE|DIR, or a subcommand (see kiln batch --help).");
      return 2;
    }
    KilnClient client;
    BatchInput items;
    try {
      client = endpoint.client();
      items = BatchInput.open(input);
    } catch (IOException e) {
      err.println("kiln batch: " + e.getMessage());
      return 2;
    }
    var scan = scan(items);
    if (scan.problemCount() > 0) {
      err.printf("kiln batch: %d of the items in %s cannot be invoked; fix them and run again:%n",
          scan.problemCount(), input);
      scan.problems().forEach(p -> err.println("  " + p));
      if (scan.problemCount() > scan.problems().size()) {
        err.printf("  ... and %d more%n", scan.problemCount() - scan.problems().size());
      }
      return 2;
    }
    if (scan.count() == 0) {
      err.println("kiln batch: " + input + " holds no items.");
      return 2;
    }
    try {
      return run(client, items, scan);
    } catch (IOException e) {
      err.println("kiln batch: " + e.getMessage());
      return 1;
    }
  }

  /** How many items the input has, its fingerprint, and what is wrong with it. */
  private record Scan(long count, String key, List<String> problems, long problemCount) {}

  private Scan scan(BatchInput items) throws IOException, InterruptedException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    digest.update(("kiln batch v1\0" + function + "\0" + (qualifier == null ? "" : qualifier) + "\0")
        .getBytes(StandardCharsets.UTF_8));
    var problems = new ArrayList<String>();
    long[] counts = new long[2];
    items.read(0, item -> {
      counts[0]++;
      var problem = BatchInput.problem(item);
      if (problem != null) {
        counts[1]++;
        if (problems.size() < MAX_PROBLEMS_SHOWN) {
          problems.add(origin(item.line(), item.path()) + ": " + problem);
        }
      }
      digest.update(ByteBuffer.allocate(16).putLong(item.index()).putLong(item.payload().length).array());
      digest.update(origin(item.line(), item.path()).getBytes(StandardCharsets.UTF_8));
      digest.update(item.payload());
    });
    return new Scan(counts[0], HexFormat.of().formatHex(digest.digest()), problems, counts[1]);
  }

  private int run(KilnClient client, BatchInput items, Scan scan) throws IOException, InterruptedException {
    var request = JSON.createObjectNode()
        .put("FunctionName", function)
        .put("IdempotencyKey", scan.key())
        .put("TotalItems", scan.count())
        .put("Source", items.source());
    if (qualifier != null) {
      request.put("Qualifier", qualifier);
    }
    if (concurrency != null) {
      request.put("Concurrency", concurrency);
    }
    if (maxAttempts != null) {
      request.put("MaxAttempts", maxAttempts);
    }
    var job = client.sendJson("POST", "/kiln/v1/batches", request);
    String jobId = job.path("JobId").asString();
    var state = job.path("State").asString();
    if (state.equals("Created") && job.path("Items").path("Uploaded").asLong() == 0) {
      err.printf("kiln batch: job %s: %d items from %s%n", jobId, scan.count(), items.source());
    } else {
      err.printf("kiln batch: job %s for this input exists (%s, %d of %d items done): %s%n", jobId, state,
          settled(job), scan.count(), state.equals("Completed") ? "showing its result" : "resuming it");
    }
    var stage = new AtomicReference<>("upload");
    Thread hook = Thread.ofPlatform().unstarted(() -> onInterrupt(client, jobId, stage.get()));
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      long uploaded = job.path("Items").path("Uploaded").asLong();
      if (state.equals("Created") && uploaded < scan.count()) {
        uploaded = upload(client, items, jobId, uploaded, scan.count());
        if (uploaded < scan.count()) {
          // The earlier upload left gaps, not just a missing tail: send everything, the server keeps what it has.
          upload(client, items, jobId, 0, scan.count());
        }
      }
      stage.set("start");
      if (!state.equals("Running") && !state.equals("Completed")) {
        var start = JSON.createObjectNode();
        if (concurrency != null) {
          start.put("Concurrency", concurrency);
        }
        job = client.sendJson("POST", jobPath(jobId) + "/start", start);
      }
      if (detach) {
        out.printf("Batch job %s is %s on the server. Follow it with: kiln batch status %s%n", jobId,
            job.path("State").asString(), jobId);
        return 0;
      }
      stage.set("run");
      job = follow(client, jobId, job);
    } finally {
      // Only an interrupt pauses the job: an answer or an error from the server does not.
      removeHook(hook);
    }
    return summary(client, job);
  }

  /** Ctrl-C (or a kill): a running job is paused on the server, and the user learns how to go on. */
  private void onInterrupt(KilnClient client, String jobId, String stage) {
    var again = "Run the same command again to " + (stage.equals("upload") ? "finish the upload" : "resume it") + ".";
    if (stage.equals("upload")) {
      err.printf("%nkiln batch: upload of job %s interrupted. %s%n", jobId, again);
      return;
    }
    try {
      var paused = client.sendJson("POST", jobPath(jobId) + "/pause", null);
      err.printf("%nkiln batch: paused job %s at %d of %d items. %s%n", jobId, settled(paused),
          paused.path("Items").path("Total").asLong(), again);
    } catch (IOException | InterruptedException e) {
      err.printf("%nkiln batch: could not pause job %s (%s); it goes on running on the server. Pause it with: "
          + "kiln batch pause %s%n", jobId, e.getMessage(), jobId);
    }
    err.flush();
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // Already shutting down (Ctrl-C right at the end): the hook runs, and finds nothing to pause.
    }
  }

  /** Uploads the items from index {@code from} in pages; returns how many items the job has then. */
  private long upload(KilnClient client, BatchInput items, String jobId, long from, long total)
      throws IOException, InterruptedException {
    long[] uploaded = {from};
    try (var bar = bar("upload", total, from)) {
      var page = new ArrayList<BatchItem>();
      long[] pageBytes = {0};
      items.read(from, item -> {
        if (!page.isEmpty() && (page.size() == Batches.MAX_ITEMS_PER_UPLOAD
            || pageBytes[0] + item.payload().length > MAX_PAGE_BYTES)) {
          uploaded[0] = sendPage(client, jobId, page);
          bar.stepBy(page.size());
          page.clear();
          pageBytes[0] = 0;
        }
        page.add(item);
        pageBytes[0] += item.payload().length;
      });
      if (!page.isEmpty()) {
        uploaded[0] = sendPage(client, jobId, page);
        bar.stepBy(page.size());
      }
    }
    return uploaded[0];
  }

  /** Sends one page of items; returns how many items the job has now. */
  private static long sendPage(KilnClient client, String jobId, List<BatchItem> page)
      throws IOException, InterruptedException {
    var body = JSON.createObjectNode();
    var list = body.putArray("Items");
    for (var item : page) {
      ObjectNode element = list.addObject().put("Index", item.index());
      if (item.line() != null) {
        element.put("Line", item.line());
      }
      if (item.path() != null) {
        element.put("Path", item.path());
      }
      element.put("Payload", item.payload());
    }
    return client.sendJson("POST", jobPath(jobId) + "/items", body).path("Items").path("Uploaded").asLong();
  }

  /** Shows progress until the job has completed (or stops running for another reason). */
  private JsonNode follow(KilnClient client, String jobId, JsonNode job)
      throws IOException, InterruptedException {
    long total = job.path("Items").path("Total").asLong();
    double[] serverRate = {job.path("RatePerSecond").asDouble()};
    try (var bar = new ProgressBarBuilder()
        .setTaskName(job.path("FunctionName").asString())
        .setInitialMax(total)
        .setStyle(ProgressBarStyle.ASCII)
        .setUnit(" items", 1)
        .showSpeed()
        .setUpdateIntervalMillis((int) POLL.toMillis())
        .startsFrom(settled(job), Duration.ZERO)
        // The server's rate covers the last seconds of the job, also before this command attached to it.
        .setEtaFunction(state -> serverRate[0] <= 0 ? Optional.empty()
            : Optional.of(Duration.ofSeconds((long) Math.ceil((state.getMax() - state.getCurrent()) / serverRate[0]))))
        .build()) {
      while (true) {
        bar.stepTo(settled(job));
        bar.setExtraMessage(" ok " + job.path("Items").path("Succeeded").asLong() + ", failed "
            + job.path("Items").path("Failed").asLong());
        if (!job.path("State").asString().equals("Running")) {
          bar.refresh();
          return job;
        }
        Thread.sleep(POLL);
        job = client.get(jobPath(jobId));
        serverRate[0] = job.path("RatePerSecond").asDouble();
      }
    }
  }

  /** What happened, the first failed items, and an exit code: 0 all succeeded, 1 some failed, 3 not finished. */
  private int summary(KilnClient client, JsonNode job) throws IOException, InterruptedException {
    var jobId = job.path("JobId").asString();
    var items = job.path("Items");
    if (!job.path("State").asString().equals("Completed")) {
      out.printf("Batch job %s is %s at %d of %d items. Run the same command again to resume it.%n", jobId,
          job.path("State").asString(), settled(job), items.path("Total").asLong());
      return 3;
    }
    long failed = items.path("Failed").asLong();
    out.printf("Batch job %s completed: %d succeeded, %d failed.%n", jobId, items.path("Succeeded").asLong(), failed);
    if (failed == 0) {
      return 0;
    }
    var page = client.get(jobPath(jobId) + "/failures?MaxItems=" + SUMMARY_FAILURES);
    out.printf("Failed items%s:%n", failed > SUMMARY_FAILURES ? " (first " + SUMMARY_FAILURES + ")" : "");
    for (var failure : page.path("Failures")) {
      out.println("  " + describeFailure(failure));
    }
    out.printf("All failures: kiln batch failures %s%n", jobId);
    return 1;
  }

  static String describeFailure(JsonNode failure) {
    var line = failure.path("Line");
    var path = failure.path("Path");
    return origin(line.isMissingNode() ? null : line.asInt(), path.isMissingNode() ? null : path.asString())
        + " (item " + failure.path("Index").asLong() + ", " + failure.path("Attempts").asInt() + " attempts): "
        + failure.path("ErrorType").asString("") + ": " + failure.path("ErrorMessage").asString("");
  }

  private static String origin(Integer line, String path) {
    return line != null ? "line " + line : path;
  }

  static long settled(JsonNode job) {
    return job.path("Items").path("Succeeded").asLong() + job.path("Items").path("Failed").asLong();
  }

  static String jobPath(String jobId) {
    return "/kiln/v1/batches/" + URLEncoder.encode(jobId, StandardCharsets.UTF_8);
  }

  private static ProgressBar bar(String task, long max, long from) {
    return new ProgressBarBuilder().setTaskName(task).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
        .setUnit(" items", 1).startsFrom(from, Duration.ZERO).build();
  }

  // ---- kiln batch status|failures|pause|resume|delete|list

  /** Runs a subcommand's call, printing the server's refusal instead of a stack trace. */
  abstract static class JobCommand implements Callable<Integer> {
    @Mixin KilnEndpoint endpoint;

    @Override
    public Integer call() throws Exception {
      try {
        return run(endpoint.client());
      } catch (IOException e) {
        System.err.println("kiln batch: " + e.getMessage());
        return 1;
      }
    }

    abstract int run(KilnClient client) throws IOException, InterruptedException;

    static void print(JsonNode job) {
      var items = job.path("Items");
      System.out.printf("%s  %s  %s%n", job.path("JobId").asString(), job.path("State").asString(),
          job.path("FunctionArn").asString());
      System.out.printf("  items: %d total, %d pending, %d running, %d succeeded, %d failed%n",
          items.path("Total").asLong(), items.path("Pending").asLong(), items.path("Running").asLong(),
          items.path("Succeeded").asLong(), items.path("Failed").asLong());
      System.out.printf("  concurrency %d%s, max attempts %d, %.1f items/s%n", job.path("Concurrency").asInt(),
          job.has("EffectiveConcurrency") ? " (running with " + job.path("EffectiveConcurrency").asInt() + ")" : "",
          job.path("MaxAttempts").asInt(), job.path("RatePerSecond").asDouble());
      System.out.printf("  source %s, created %s%s%s%n", job.path("Source").asString("-"),
          job.path("CreatedAt").asString(), job.has("StartedAt") ? ", started " + job.path("StartedAt").asString() : "",
          job.has("FinishedAt") ? ", finished " + job.path("FinishedAt").asString() : "");
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "Show a job's state and counts.")
  static final class Status extends JobCommand {
    @Parameters(index = "0", paramLabel = "JOB") String jobId;

    @Override
    int run(KilnClient client) throws IOException, InterruptedException {
      print(client.get(jobPath(jobId)));
      return 0;
    }
  }

  @Command(name = "failures", mixinStandardHelpOptions = true, description = "List a job's failed items with their errors.")
  static final class Failures extends JobCommand {
    @Parameters(index = "0", paramLabel = "JOB") String jobId;

    @Override
    int run(KilnClient client) throws IOException, InterruptedException {
      String marker = null;
      do {
        var page = client.get(jobPath(jobId) + "/failures?MaxItems=1000"
            + (marker == null ? "" : "&Marker=" + URLEncoder.encode(marker, StandardCharsets.UTF_8)));
        page.path("Failures").forEach(f -> System.out.println(describeFailure(f)));
        marker = page.has("NextMarker") ? page.path("NextMarker").asString() : null;
      } while (marker != null);
      return 0;
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause a running job (items in flight finish).")
  static final class Pause extends JobCommand {
    @Parameters(index = "0", paramLabel = "JOB") String jobId;

    @Override
    int run(KilnClient client) throws IOException, InterruptedException {
      print(client.sendJson("POST", jobPath(jobId) + "/pause", null));
      return 0;
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Start a paused job again, in the background.")
  static final class Resume extends JobCommand {
    @Parameters(index = "0", paramLabel = "JOB") String jobId;

    @Option(names = "--concurrency", description = "Change the job's concurrency.") Integer concurrency;

    @Override
    int run(KilnClient client) throws IOException, InterruptedException {
      var body = JSON.createObjectNode();
      if (concurrency != null) {
        body.put("Concurrency", concurrency);
      }
      print(client.sendJson("POST", jobPath(jobId) + "/start", body));
      return 0;
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a job, its items and their results.")
  static final class Delete extends JobCommand {
    @Parameters(index = "0", paramLabel = "JOB") String jobId;

    @Override
    int run(KilnClient client) throws IOException, InterruptedException {
      client.sendJson("DELETE", jobPath(jobId), null);
      System.out.println("Deleted batch job " + jobId + ".");
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the batch jobs, oldest first.")
  static final class ListJobs extends JobCommand {
    @Option(names = "--function", description = "Only the jobs of this function.") String function;

    @Override
    int run(KilnClient client) throws IOException, InterruptedException {
      var query = "?MaxItems=1000" + (function == null ? "" : "&FunctionName="
          + URLEncoder.encode(function, StandardCharsets.UTF_8));
      for (var job : client.get("/kiln/v1/batches" + query).path("Jobs")) {
        print(job);
      }
      return 0;
    }
  }
}
