package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.BatchTestBase;
import dev.kiln.e2e.support.KilnCli;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Nothing a batch job was given is lost: kill -9 of the server in the middle of a job, and a
 * {@code kiln batch} command stopped or killed in the middle, each followed by the job completing
 * with every item invoked at least once.
 */
class BatchDurabilityTest extends BatchTestBase {
  private static final Duration CLI_TIMEOUT = Duration.ofSeconds(90);
  private static final int ITEMS = 300;

  /** Each test leaves the server running for the next one (and for teardown). */
  @AfterEach
  void serverBackUp() {
    if (!server.isRunning()) {
      server.restart();
      connectClients();
    }
  }

  @Test
  void a_job_survives_kill_9_of_the_server_and_every_item_runs_at_least_once() {
    String name = deployRecorder("batch-kill9");
    Path input = jsonLines("kill9.jsonl", numbered(ITEMS, "\"sleep\":40"));
    KilnCli.Run started = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString(), "--concurrency", "4",
        "--detach");
    assertThat(started.exitCode()).as("%s", started).isZero();
    String jobId = onlyJobOf(name);
    JsonNode before = awaitJob(jobId, Duration.ofSeconds(60), j -> settled(j) >= 40);
    assertThat(settled(before)).as("killed in the middle of the job").isLessThan(ITEMS);

    server.crash();
    server.restart();
    connectClients();

    // Nobody starts it again: the node resumes the jobs that were running.
    JsonNode done = awaitJob(jobId, Duration.ofSeconds(90), j -> j.path("State").asString().equals("Completed"));
    assertThat(done.path("Items").path("Succeeded").asLong()).as("%s", done).isEqualTo(ITEMS);
    assertThat(done.path("Items").path("Failed").asLong()).isZero();
    assertEveryItemInvoked(name);
  }

  @Test
  void a_stopped_cli_pauses_the_job_and_the_same_command_resumes_it() {
    String name = deployRecorder("batch-sigterm");
    Path input = jsonLines("sigterm.jsonl", numbered(ITEMS, "\"sleep\":40"));
    KilnCli.Started cli = kiln().start("batch", name, "--input", input.toString(), "--concurrency", "4");
    String jobId = awaitJobOf(name);
    awaitJob(jobId, Duration.ofSeconds(60), j -> settled(j) >= 40);

    // SIGTERM, as Ctrl-C would: the command's shutdown hook pauses the job on the server.
    cli.process().destroy();
    KilnCli.Run stopped = cli.await(Duration.ofSeconds(30));
    assertThat(stopped.stderr()).contains("paused job " + jobId).contains("Run the same command again to resume it");
    JsonNode paused = awaitJob(jobId, Duration.ofSeconds(30),
        j -> j.path("State").asString().equals("Paused") && j.path("Items").path("Running").asLong() == 0);
    assertThat(settled(paused)).isLessThan(ITEMS);

    KilnCli.Run again = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString(), "--concurrency", "4");
    assertThat(again.exitCode()).as("%s", again).isZero();
    assertThat(again.stderr()).contains("job " + jobId + " for this input exists (Paused");
    assertThat(again.stdout()).contains("completed: " + ITEMS + " succeeded, 0 failed.");
    assertThat(onlyJobOf(name)).isEqualTo(jobId);
    assertEveryItemInvoked(name);
  }

  @Test
  void a_killed_cli_leaves_the_job_running_and_the_same_command_attaches_to_it() {
    String name = deployRecorder("batch-cli-kill9");
    Path input = jsonLines("cli-kill9.jsonl", numbered(120, "\"sleep\":40"));
    KilnCli.Started cli = kiln().start("batch", name, "--input", input.toString(), "--concurrency", "4");
    String jobId = awaitJobOf(name);
    awaitJob(jobId, Duration.ofSeconds(60), j -> settled(j) >= 10);

    // kill -9: no hook runs, the job goes on on the server.
    cli.process().destroyForcibly();
    cli.await(Duration.ofSeconds(30));
    KilnCli.Run again = kiln().run(CLI_TIMEOUT, "batch", name, "--input", input.toString());
    assertThat(again.exitCode()).as("%s", again).isZero();
    assertThat(again.stderr()).contains("job " + jobId + " for this input exists");
    assertThat(again.stdout()).contains("completed: 120 succeeded, 0 failed.");
    assertThat(invocationsByN(name)).hasSize(120).allSatisfy((n, times) -> assertThat(times).isEqualTo(1));
  }

  private String awaitJobOf(String name) {
    String[] id = new String[1];
    org.awaitility.Awaitility.await("job of " + name).atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> {
          var jobs = jobsOf(name);
          if (jobs.isEmpty()) {
            return false;
          }
          id[0] = jobs.getFirst().path("JobId").asString();
          return true;
        });
    return id[0];
  }

  /** Every item shows up in the function's log, whatever was interrupted on the way. */
  private void assertEveryItemInvoked(String name) {
    Map<Integer, Integer> counts = invocationsByN(name);
    for (int n = 0; n < ITEMS; n++) {
      assertThat(counts.getOrDefault(n, 0)).as("invocations of item %d", n).isPositive();
    }
    int repeats = counts.values().stream().mapToInt(c -> c - 1).sum();
    System.out.printf("%s: %d items, %d invoked more than once (re-run after the interruption)%n", name, ITEMS,
        repeats);
  }
}
