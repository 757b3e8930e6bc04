package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.BatchTestBase;
import dev.kiln.e2e.support.KilnCli;
import dev.kiln.e2e.support.SignedHttp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Batch over a data set through the built {@code kiln batch} command and the batch API
 * ({@code /kiln/v1/batches}): every line or file becomes one invocation with its payload, failures
 * come back with their items, bad input is refused before anything runs, the same command finds the
 * same job again, and the function's reserved concurrency bounds the job.
 */
class BatchTest extends BatchTestBase {
  private static final Duration CLI_TIMEOUT = Duration.ofSeconds(90);

  @Test
  void every_line_becomes_one_invocation_with_its_payload() {
    String name = deployRecorder("batch-lines");
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      lines.add("{\"n\":" + i + ",\"text\":\"line \\u00e9 " + i + "\",\"nested\":{\"list\":[" + i + ",true,null]}}");
    }
    List<String> withBlank = new ArrayList<>(lines);
    withBlank.add(5, "   ");
    Path input = jsonLines("lines.jsonl", withBlank);

    KilnCli.Run run = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString());
    assertThat(run.exitCode()).as("%s", run).isZero();
    assertThat(run.stdout()).contains("completed: 40 succeeded, 0 failed.");

    String jobId = onlyJobOf(name);
    JsonNode job = job(jobId);
    assertThat(job.path("State").asString()).isEqualTo("Completed");
    assertThat(job.path("Items").path("Total").asLong()).isEqualTo(40);
    assertThat(job.path("Items").path("Succeeded").asLong()).isEqualTo(40);
    assertThat(job.path("Source").asString()).isEqualTo("lines.jsonl");
    assertThat(job.path("StartedAt").asString()).isNotEmpty();
    assertThat(job.path("FinishedAt").asString()).isNotEmpty();

    var seen = seen(name);
    assertThat(seen).as("one invocation per line").hasSize(40);
    assertThat(seen.stream().map(s -> s.event()).toList())
        .containsExactlyInAnyOrderElementsOf(lines.stream().map(l -> json(l)).toList());
  }

  @Test
  void failed_items_are_reported_with_their_lines_and_errors() {
    String name = deployRecorder("batch-fail");
    List<String> lines = numbered(12, "");
    lines.set(3, "{\"n\":3,\"fail\":true}");
    lines.set(8, "{\"n\":8,\"fail\":true}");
    Path input = jsonLines("fail.jsonl", lines);

    KilnCli.Run run = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString(), "--max-attempts", "3");
    assertThat(run.exitCode()).as("a failed item makes the command fail: %s", run).isEqualTo(1);
    assertThat(run.stdout())
        .contains("completed: 10 succeeded, 2 failed.")
        .contains("line 4 (item 3, 3 attempts): Error: item 3 fails")
        .contains("line 9 (item 8, 3 attempts): Error: item 8 fails")
        .contains("kiln batch failures ");

    String jobId = onlyJobOf(name);
    SignedHttp.Response failures = http.send("GET", "/kiln/v1/batches/" + jobId + "/failures", (byte[]) null);
    assertThat(failures.status()).isEqualTo(200);
    JsonNode first = failures.json().path("Failures").get(0);
    assertThat(first.path("Index").asLong()).isEqualTo(3);
    assertThat(first.path("Line").asInt()).isEqualTo(4);
    assertThat(first.path("Attempts").asInt()).isEqualTo(3);
    assertThat(first.path("ErrorType").asString()).isEqualTo("Error");
    assertThat(first.path("ErrorMessage").asString()).isEqualTo("item 3 fails");
    assertThat(failures.json().path("Failures")).hasSize(2);

    // Paged: one at a time, with a marker.
    SignedHttp.Response page = http.send("GET", "/kiln/v1/batches/" + jobId + "/failures?MaxItems=1", (byte[]) null);
    assertThat(page.json().path("Failures")).hasSize(1);
    String marker = page.json().path("NextMarker").asString();
    SignedHttp.Response next =
        http.send("GET", "/kiln/v1/batches/" + jobId + "/failures?MaxItems=1&Marker=" + marker, (byte[]) null);
    assertThat(next.json().path("Failures").get(0).path("Index").asLong()).isEqualTo(8);
    assertThat(next.json().has("NextMarker")).isFalse();

    // Each failing item was tried MaxAttempts times, every other item exactly once.
    Map<Integer, Integer> counts = invocationsByN(name);
    assertThat(counts).containsEntry(3, 3).containsEntry(8, 3).hasSize(12);
    counts.forEach((n, times) -> {
      if (n != 3 && n != 8) {
        assertThat(times).as("invocations of item %d", n).isEqualTo(1);
      }
    });

    KilnCli.Run listed = kiln().run(CLI_TIMEOUT, "batch", "failures", jobId);
    assertThat(listed.exitCode()).as("%s", listed).isZero();
    assertThat(listed.stdout().lines().toList()).containsExactly(
        "line 4 (item 3, 3 attempts): Error: item 3 fails", "line 9 (item 8, 3 attempts): Error: item 8 fails");
  }

  @Test
  void a_bad_line_is_refused_with_its_line_number_before_anything_runs() {
    String name = deployRecorder("batch-bad");
    Path input = jsonLines("bad.jsonl", List.of("{\"n\":0}", "{\"n\":1}", "", "{\"n\":2,", "{\"n\":3}", "not json"));

    KilnCli.Run run = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString());
    assertThat(run.exitCode()).as("%s", run).isEqualTo(2);
    assertThat(run.stderr()).contains("2 of the items").contains("line 4: not valid JSON").contains("line 6: not valid JSON");
    assertThat(jobsOf(name)).as("no job was created").isEmpty();
    assertThat(seen(name)).as("nothing was invoked").isEmpty();

    // The API checks every item too, and names the line it came from.
    SignedHttp.Response created = http.send("POST", "/kiln/v1/batches",
        "{\"FunctionName\":\"" + name + "\",\"TotalItems\":2}");
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    String jobId = created.json().path("JobId").asString();
    SignedHttp.Response upload = http.send("POST", "/kiln/v1/batches/" + jobId + "/items",
        "{\"Items\":[{\"Index\":0,\"Line\":1,\"Payload\":\"" + base64("{}") + "\"},"
            + "{\"Index\":1,\"Line\":5,\"Payload\":\"" + base64("{\"n\":") + "\"}]}");
    assertThat(upload.status()).as("%s", upload).isEqualTo(400);
    assertThat(upload.errorType()).isEqualTo("InvalidParameterValueException");
    assertThat(upload.json().path("message").asString()).contains("Item 1 (line 5) is not valid JSON");
    assertThat(job(jobId).path("Items").path("Uploaded").asLong()).as("nothing of a refused page is kept").isZero();
  }

  @Test
  void the_same_command_again_attaches_to_the_same_job_instead_of_running_it_again() {
    String name = deployRecorder("batch-again");
    Path input = jsonLines("again.jsonl", numbered(15, ""));

    KilnCli.Run first = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString());
    assertThat(first.exitCode()).as("%s", first).isZero();
    String jobId = onlyJobOf(name);
    assertThat(first.stderr()).contains("job " + jobId);

    KilnCli.Run second = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString());
    assertThat(second.exitCode()).as("%s", second).isZero();
    assertThat(second.stderr()).contains("job " + jobId + " for this input exists (Completed, 15 of 15 items done)");
    assertThat(second.stdout()).contains("Batch job " + jobId + " completed: 15 succeeded, 0 failed.");
    assertThat(onlyJobOf(name)).isEqualTo(jobId);
    assertThat(seen(name)).as("nothing ran twice").hasSize(15);

    // Other input: another job.
    Path more = jsonLines("more.jsonl", numbered(16, ""));
    KilnCli.Run third = kiln().run(CLI_TIMEOUT, "batch", name, "--input", more.toString(), "--detach");
    assertThat(third.exitCode()).as("%s", third).isZero();
    assertThat(third.stdout()).contains("kiln batch status ");
    assertThat(jobsOf(name)).hasSize(2);
  }

  @Test
  void the_functions_reserved_concurrency_bounds_the_job() {
    String name = deployRecorder("batch-conc");
    lambda.putFunctionConcurrency(b -> b.functionName(name).reservedConcurrentExecutions(2));
    Path input = jsonLines("conc.jsonl", numbered(24, "\"sleep\":150"));

    KilnCli.Run run = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString(), "--concurrency", "6",
        "--detach");
    assertThat(run.exitCode()).as("%s", run).isZero();
    String jobId = onlyJobOf(name);
    JsonNode running = job(jobId);
    assertThat(running.path("Concurrency").asInt()).isEqualTo(6);
    if (running.path("State").asString().equals("Running")) {
      assertThat(running.path("EffectiveConcurrency").asInt()).isEqualTo(2);
    }
    JsonNode done = awaitJob(jobId, Duration.ofSeconds(60), j -> j.path("State").asString().equals("Completed"));
    assertThat(done.path("Items").path("Succeeded").asLong()).as("throttles are waited out, not failures: %s", done)
        .isEqualTo(24);

    var spans = seen(name);
    assertThat(spans).hasSize(24);
    assertThat(maxOverlap(spans)).as("invocations at once").isEqualTo(2);

    // Without a reservation the job's own concurrency is the bound.
    String free = deployRecorder("batch-conc-free");
    KilnCli.Run unbounded = kiln().run(CLI_TIMEOUT, "batch", free, "--input", input.toString(), "--concurrency", "3");
    assertThat(unbounded.exitCode()).as("%s", unbounded).isZero();
    assertThat(maxOverlap(seen(free))).as("invocations at once").isBetween(2, 3);
  }

  @Test
  void a_folder_becomes_one_item_per_file() throws Exception {
    String name = deployRecorder("batch-dir");
    Path dir = workDir.resolve("folder-input");
    Files.createDirectories(dir.resolve("sub/deeper"));
    Files.writeString(dir.resolve("a.json"), "{\"n\":1,\"kind\":\"json file\"}");
    Files.writeString(dir.resolve("sub/b.txt"), "hello, not json\n");
    Files.writeString(dir.resolve("sub/deeper/c.json"), "[1, 2, 3]");
    Files.write(dir.resolve("sub/d.bin"), new byte[] {0, 1, 2, (byte) 0xff});

    KilnCli.Run run = kiln().run(CLI_TIMEOUT, "batch", name, "--input", dir.toString());
    assertThat(run.exitCode()).as("%s", run).isZero();
    assertThat(run.stdout()).contains("completed: 4 succeeded, 0 failed.");
    assertThat(seen(name).stream().map(s -> s.event()).toList()).containsExactlyInAnyOrder(
        json("{\"n\":1,\"kind\":\"json file\"}"),
        json("{\"path\":\"sub/b.txt\",\"body\":\"" + base64("hello, not json\n") + "\"}"),
        json("{\"path\":\"sub/d.bin\",\"body\":\"" + Base64.getEncoder().encodeToString(new byte[] {0, 1, 2, (byte) 0xff})
            + "\"}"),
        json("[1,2,3]"));
    JsonNode job = job(onlyJobOf(name));
    assertThat(job.path("Source").asString()).isEqualTo("folder-input/");
  }

  @Test
  void pause_resume_status_and_delete_from_the_cli() {
    String name = deployRecorder("batch-ctl");
    // 60 items of 400 ms two at a time: about 12 s, time enough for a JVM to start and pause it on a busy machine.
    Path input = jsonLines("ctl.jsonl", numbered(60, "\"sleep\":400"));
    KilnCli.Run started = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString(), "--concurrency", "2",
        "--detach");
    assertThat(started.exitCode()).as("%s", started).isZero();
    String jobId = onlyJobOf(name);
    awaitJob(jobId, Duration.ofSeconds(30), j -> settled(j) >= 2);

    KilnCli.Run paused = kiln().run(CLI_TIMEOUT, "batch", "pause", jobId);
    assertThat(paused.exitCode()).as("%s", paused).isZero();
    assertThat(paused.stdout()).contains(jobId + "  Paused");
    JsonNode quiet = awaitJob(jobId, Duration.ofSeconds(30), j -> j.path("Items").path("Running").asLong() == 0);
    long settledWhenPaused = settled(quiet);
    assertThat(settledWhenPaused).isLessThan(60);
    Awaitility.await("nothing runs while paused").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
        .until(() -> settled(job(jobId)) == settledWhenPaused);

    KilnCli.Run status = kiln().run(CLI_TIMEOUT, "batch", "status", jobId);
    assertThat(status.stdout()).contains("Paused").contains("60 total").contains(settledWhenPaused + " succeeded");

    KilnCli.Run resumed = kiln().run(CLI_TIMEOUT, "batch", "resume", jobId);
    assertThat(resumed.exitCode()).as("%s", resumed).isZero();
    awaitJob(jobId, Duration.ofSeconds(60), j -> j.path("State").asString().equals("Completed"));
    assertThat(invocationsByN(name)).hasSize(60).allSatisfy((n, times) -> assertThat(times).isEqualTo(1));

    KilnCli.Run deleted = kiln().run(CLI_TIMEOUT, "batch", "delete", jobId);
    assertThat(deleted.exitCode()).as("%s", deleted).isZero();
    assertThat(http.send("GET", "/kiln/v1/batches/" + jobId, (byte[]) null).status()).isEqualTo(404);
    KilnCli.Run gone = kiln().run(CLI_TIMEOUT, "batch", "status", jobId);
    assertThat(gone.exitCode()).isEqualTo(1);
    assertThat(gone.stderr()).contains("ResourceNotFoundException");
  }

  @Test
  void deleting_the_function_deletes_its_jobs() {
    String name = deployRecorder("batch-gone");
    Path input = jsonLines("gone.jsonl", numbered(50, "\"sleep\":100"));
    KilnCli.Run started = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString(), "--concurrency", "2",
        "--detach");
    assertThat(started.exitCode()).as("%s", started).isZero();
    String jobId = onlyJobOf(name);
    lambda.deleteFunction(b -> b.functionName(name));
    SignedHttp.Response gone = http.send("GET", "/kiln/v1/batches/" + jobId, (byte[]) null);
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.errorType()).isEqualTo("ResourceNotFoundException");
    SignedHttp.Response all = http.send("GET", "/kiln/v1/batches", (byte[]) null);
    List<String> ids = new ArrayList<>();
    all.json().path("Jobs").forEach(j -> ids.add(j.path("JobId").asString()));
    assertThat(ids).doesNotContain(jobId);
  }

  @Test
  void the_api_checks_its_input_and_answers_with_lambdas_errors() throws Exception {
    String name = deployRecorder("batch-api");
    String other = deployRecorder("batch-api-other");

    expect(http.send("GET", "/kiln/v1/batches/no-such-job", (byte[]) null), 404, "ResourceNotFoundException");
    expect(http.send("POST", "/kiln/v1/batches", "{\"FunctionName\":\"" + uniqueName("nobody") + "\",\"TotalItems\":1}"),
        404, "ResourceNotFoundException");
    expect(http.send("POST", "/kiln/v1/batches", "{\"FunctionName\":\"" + name + "\"}"),
        400, "InvalidParameterValueException");
    expect(http.send("POST", "/kiln/v1/batches", "{\"FunctionName\":\"" + name + "\",\"TotalItems\":3,\"Concurrency\":0}"),
        400, "InvalidParameterValueException");
    expect(http.send("POST", "/kiln/v1/batches", "{\"FunctionName\":\"" + name + "\",\"TotalItems\":\"three\"}"),
        400, "InvalidRequestContentException");
    expect(http.send("POST", "/kiln/v1/batches",
        "{\"FunctionName\":\"" + name + "\",\"Qualifier\":\"nope\",\"TotalItems\":1}"), 404, "ResourceNotFoundException");

    String create = "{\"FunctionName\":\"" + name + "\",\"TotalItems\":2,\"IdempotencyKey\":\"key-" + name + "\"}";
    SignedHttp.Response created = http.send("POST", "/kiln/v1/batches", create);
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    String jobId = created.json().path("JobId").asString();
    assertThat(created.json().path("State").asString()).isEqualTo("Created");
    SignedHttp.Response again = http.send("POST", "/kiln/v1/batches", create);
    assertThat(again.status()).as("the same key finds the same job").isEqualTo(200);
    assertThat(again.json().path("JobId").asString()).isEqualTo(jobId);
    expect(http.send("POST", "/kiln/v1/batches",
        "{\"FunctionName\":\"" + other + "\",\"TotalItems\":2,\"IdempotencyKey\":\"key-" + name + "\"}"),
        409, "ResourceConflictException");

    expect(http.send("POST", "/kiln/v1/batches/" + jobId + "/items", "{\"Items\":{}}"), 400, "InvalidRequestContentException");
    expect(http.send("POST", "/kiln/v1/batches/" + jobId + "/items",
        "{\"Items\":[{\"Index\":7,\"Payload\":\"" + base64("{}") + "\"}]}"), 400, "InvalidParameterValueException");
    SignedHttp.Response half = http.send("POST", "/kiln/v1/batches/" + jobId + "/items",
        "{\"Items\":[{\"Index\":0,\"Payload\":\"" + base64("{\"n\":0}") + "\"}]}");
    assertThat(half.json().path("Items").path("Uploaded").asLong()).isEqualTo(1);
    SignedHttp.Response early = http.send("POST", "/kiln/v1/batches/" + jobId + "/start", (byte[]) null);
    expect(early, 400, "InvalidParameterValueException");
    assertThat(early.json().path("message").asString()).contains("has 1 of its 2 items");
    http.send("POST", "/kiln/v1/batches/" + jobId + "/items",
        "{\"Items\":[{\"Index\":1,\"Payload\":\"" + base64("{\"n\":1}") + "\"}]}");
    SignedHttp.Response start = http.send("POST", "/kiln/v1/batches/" + jobId + "/start", (byte[]) null);
    assertThat(start.status()).as("%s", start).isEqualTo(200);
    expect(http.send("POST", "/kiln/v1/batches/" + jobId + "/items",
        "{\"Items\":[{\"Index\":1,\"Payload\":\"" + base64("{}") + "\"}]}"), 409, "ResourceConflictException");
    awaitJob(jobId, Duration.ofSeconds(30), j -> j.path("State").asString().equals("Completed"));
    expect(http.send("GET", "/kiln/v1/batches/" + jobId + "/failures?Marker=x", (byte[]) null),
        400, "InvalidParameterValueException");

    SignedHttp.Response deleted = http.send("DELETE", "/kiln/v1/batches/" + jobId, (byte[]) null);
    assertThat(deleted.status()).isEqualTo(204);
    expect(http.send("DELETE", "/kiln/v1/batches/" + jobId, (byte[]) null), 404, "ResourceNotFoundException");

    HttpResponse<String> unsigned = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(server.endpoint() + "/kiln/v1/batches")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(unsigned.statusCode()).as("unsigned: %s", unsigned.body()).isEqualTo(403);
  }

  private static void expect(SignedHttp.Response response, int status, String type) {
    assertThat(response.status()).as("%s", response).isEqualTo(status);
    assertThat(response.errorType()).as("%s", response).isEqualTo(type);
    assertThat(response.json().path("message").asString()).as("a message for the user").isNotBlank();
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }
}
