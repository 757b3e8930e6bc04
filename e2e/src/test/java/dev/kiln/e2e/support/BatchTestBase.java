package dev.kiln.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import tools.jackson.databind.JsonNode;

/**
 * Helpers for the batch tests: a Node function that logs every event it gets, inputs written to
 * files, the {@code kiln batch} command, and the batch API and log API read back.
 */
public abstract class BatchTestBase extends InvokeTestBase {
  /**
   * Logs {@code batch-item <event JSON> span <start ms> <end ms>} for every event, sleeps
   * {@code event.sleep} ms in between, and throws for {@code event.fail}.
   */
  protected static final String RECORDER =
      """
      exports.handler = async (event) => {
        const start = Date.now();
        if (event && event.sleep) await new Promise(r => setTimeout(r, event.sleep));
        console.log('batch-item ' + JSON.stringify(event) + ' span ' + start + ' ' + Date.now());
        if (event && event.fail) throw new Error('item ' + event.n + ' fails');
        return { n: event && event.n };
      };
      """;
  private static final Pattern ITEM_LINE = Pattern.compile("batch-item (.*) span (\\d+) (\\d+)$");

  protected KilnCli kiln() {
    return new KilnCli(server.endpoint(), accessKey, secretKey, workDir);
  }

  protected String deployRecorder(String prefix) {
    return deploy(prefix, "nodejs22.x", "index.handler", Functions.node(RECORDER));
  }

  /** A JSON Lines file with these lines. */
  protected Path jsonLines(String name, List<String> lines) {
    try {
      Path file = workDir.resolve(name);
      Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {"n": i, ...extra} for i in 0..count-1. */
  protected static List<String> numbered(int count, String extra) {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      lines.add("{\"n\":" + i + (extra.isEmpty() ? "" : "," + extra) + "}");
    }
    return lines;
  }

  protected JsonNode job(String jobId) {
    SignedHttp.Response r = http.send("GET", "/kiln/v1/batches/" + jobId, (byte[]) null);
    assertThat(r.status()).as("GET job: %s", r).isEqualTo(200);
    return r.json();
  }

  /** The jobs of a function through the API. */
  protected List<JsonNode> jobsOf(String function) {
    SignedHttp.Response r = http.send("GET", "/kiln/v1/batches?FunctionName=" + function, (byte[]) null);
    assertThat(r.status()).as("list jobs: %s", r).isEqualTo(200);
    List<JsonNode> jobs = new ArrayList<>();
    r.json().path("Jobs").forEach(jobs::add);
    return jobs;
  }

  protected String onlyJobOf(String function) {
    List<JsonNode> jobs = jobsOf(function);
    assertThat(jobs).as("jobs of %s", function).hasSize(1);
    return jobs.getFirst().path("JobId").asString();
  }

  protected JsonNode awaitJob(String jobId, Duration atMost, Predicate<JsonNode> condition) {
    JsonNode[] last = new JsonNode[1];
    Awaitility.await("batch job " + jobId)
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          last[0] = job(jobId);
          return condition.test(last[0]);
        });
    return last[0];
  }

  protected static long settled(JsonNode job) {
    return job.path("Items").path("Succeeded").asLong() + job.path("Items").path("Failed").asLong();
  }

  /** One invocation's line of the recorder: the event it got and when it started and ended. */
  protected record Seen(JsonNode event, long startMs, long endMs) {}

  /** Every event the recorder logged, in log order, paging through the whole log. */
  protected List<Seen> seen(String function) {
    List<Seen> result = new ArrayList<>();
    long position = 0;
    while (true) {
      SignedHttp.Response r = http.send("GET",
          "/kiln/v1/functions/" + function + "/logs?position=" + position + "&limit=10000", (byte[]) null);
      assertThat(r.status()).as("GET logs: %s", r).isEqualTo(200);
      JsonNode page = r.json();
      for (JsonNode e : page.path("events")) {
        Matcher m = ITEM_LINE.matcher(e.path("message").asString());
        if (m.find()) {
          result.add(new Seen(json(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))));
        }
      }
      long next = page.path("nextPosition").asLong();
      if (next == position) {
        return result;
      }
      position = next;
    }
  }

  /** How often each {@code n} was invoked. */
  protected Map<Integer, Integer> invocationsByN(String function) {
    Map<Integer, Integer> counts = new HashMap<>();
    for (Seen s : seen(function)) {
      counts.merge(s.event().path("n").asInt(), 1, Integer::sum);
    }
    return counts;
  }

  /** The most invocations that ran at the same moment, from the spans the function logged. */
  protected static int maxOverlap(List<Seen> spans) {
    List<long[]> edges = new ArrayList<>();
    for (Seen s : spans) {
      edges.add(new long[] {s.startMs(), 1});
      edges.add(new long[] {s.endMs(), -1});
    }
    // At equal times an end comes first: back-to-back invocations do not overlap.
    edges.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    int current = 0;
    int max = 0;
    for (long[] edge : edges) {
      current += (int) edge[1];
      max = Math.max(max, current);
    }
    return max;
  }
}
