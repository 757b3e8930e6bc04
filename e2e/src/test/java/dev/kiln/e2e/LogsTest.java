package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.KilnServer;
import dev.kiln.e2e.support.SignedHttp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.LogType;
import tools.jackson.databind.JsonNode;

/**
 * Function logs after the fact: Kiln's log API ({@code GET /kiln/v1/functions/{name}/logs},
 * signed like any call) with positions, paging and long polling, and the {@code kiln logs}
 * command; plus the 4 KB limit of the X-Amz-Log-Result tail.
 */
class LogsTest extends InvokeTestBase {
  private static final String CHATTY =
      """
      console.log('init says hello');
      exports.handler = async (event, context) => {
        console.log('first line of ' + event.tag);
        console.error('second line of ' + event.tag);
        for (let i = 0; i < (event.lines || 0); i++) console.log(`filler ${i} ` + 'x'.repeat(100));
        if (event.fail) throw new Error('failed ' + event.tag);
        return event.tag;
      };
      """;

  private String chatty(String prefix) {
    return deploy(prefix, "nodejs22.x", "index.handler", Functions.node(CHATTY));
  }

  private SignedHttp.Response logs(String name, String query) {
    return http.send("GET", "/kiln/v1/functions/" + name + "/logs" + query, (byte[]) null);
  }

  private static List<String> messages(List<JsonNode> events, String requestId) {
    return events.stream()
        .filter(e -> requestId.equals(e.path("requestId").asString()))
        .map(e -> e.path("message").asString())
        .toList();
  }

  private static int indexOfContaining(List<String> messages, String text) {
    for (int i = 0; i < messages.size(); i++) {
      if (messages.get(i).contains(text)) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void each_invocation_is_logged_in_lambdas_order_with_its_request_id() {
    String name = chatty("logs-order");
    long before = System.currentTimeMillis();
    String first = invoke(name, "{\"tag\":\"one\"}", b -> b.logType(LogType.NONE)).status() == 200 ? "one" : null;
    assertThat(first).isNotNull();
    Invocation failed = invoke(name, "{\"tag\":\"two\",\"fail\":true}");
    failed.unhandled("Error");
    String failedId = failed.requestId();

    List<JsonNode> events = awaitLogEvents(name, "REPORT RequestId: " + failedId);
    List<String> all = events.stream().map(e -> e.path("message").asString()).toList();
    int init = indexOfContaining(all, "init says hello");
    int firstStart = indexOfContaining(all, "START RequestId:");
    assertThat(init).as("init output comes before the first START: %s", all).isBetween(0, firstStart);

    String firstId = all.get(firstStart).substring("START RequestId: ".length(), "START RequestId: ".length() + 36);
    List<String> one = messages(events, firstId);
    int start = indexOfContaining(one, "START RequestId: " + firstId);
    assertThat(one.get(start)).isEqualTo("START RequestId: " + firstId + " Version: $LATEST");
    assertThat(one.subList(0, start)).as("only init output before START").allMatch(m -> m.contains("init says hello"));
    assertThat(indexOfContaining(one, "first line of one")).isGreaterThan(start);
    assertThat(indexOfContaining(one, "second line of one")).isGreaterThan(indexOfContaining(one, "first line of one"));
    assertThat(indexOfContaining(one, "END RequestId: " + firstId)).isGreaterThan(indexOfContaining(one, "second line"));
    assertThat(one.getLast()).startsWith("REPORT RequestId: " + firstId).contains("Init Duration:");

    List<String> two = messages(events, failedId);
    assertThat(indexOfContaining(two, "failed two")).as("the error is logged: %s", two).isPositive();
    assertThat(two.getLast()).startsWith("REPORT RequestId: " + failedId).doesNotContain("Init Duration");

    long after = System.currentTimeMillis();
    long previous = 0;
    for (JsonNode e : events) {
      long t = e.path("timestamp").asLong();
      assertThat(t).as("timestamp of %s", e).isBetween(before - 1000, after + 1000).isGreaterThanOrEqualTo(previous);
      previous = t;
    }

    // Another function's log holds none of this.
    String quiet = chatty("logs-quiet");
    assertThat(logEvents(quiet, 0)).isEmpty();
  }

  @Test
  void positions_page_through_the_log_and_follow_new_events() {
    String name = chatty("logs-paging");
    String lastId = null;
    for (String tag : List.of("a", "b", "c")) {
      lastId = invoke(name, "{\"tag\":\"" + tag + "\"}").requestId();
    }
    // The platform's own lines, so this test does not depend on when the function's lines arrive.
    awaitLogEvents(name, "REPORT RequestId: " + lastId);
    List<JsonNode> all = logEvents(name, 0);

    List<JsonNode> paged = new ArrayList<>();
    long position = 0;
    int pages = 0;
    while (true) {
      SignedHttp.Response page = logs(name, "?position=" + position + "&limit=4");
      assertThat(page.status()).isEqualTo(200);
      List<JsonNode> events = new ArrayList<>();
      page.json().path("events").forEach(events::add);
      long next = page.json().path("nextPosition").asLong();
      if (events.isEmpty()) {
        assertThat(next).as("an empty page keeps the position").isEqualTo(position);
        break;
      }
      assertThat(events).hasSizeLessThanOrEqualTo(4);
      assertThat(next).isGreaterThan(position);
      paged.addAll(events);
      position = next;
      pages++;
    }
    assertThat(pages).isGreaterThan(1);
    assertThat(paged).isEqualTo(all);

    // From the end: nothing until something new happens, then only the new events.
    SignedHttp.Response end = logs(name, "?position=-1");
    assertThat(end.json().path("events")).isEmpty();
    long tail = end.json().path("nextPosition").asLong();
    assertThat(tail).isEqualTo(position);
    String d = invoke(name, "{\"tag\":\"d\"}").requestId();
    awaitLogEvents(name, "REPORT RequestId: " + d);
    List<String> fresh = new ArrayList<>();
    logs(name, "?position=" + tail).json().path("events").forEach(e -> fresh.add(e.path("message").asString()));
    String previous = "RequestId: " + lastId;
    assertThat(fresh).noneMatch(m -> m.contains(previous));
    assertThat(fresh).contains("START RequestId: " + d + " Version: $LATEST");
    assertThat(fresh.getLast()).startsWith("REPORT RequestId: " + d);
  }

  @Test
  void wait_long_polls_until_new_events_arrive() throws Exception {
    String name = chatty("logs-wait");
    String warm = invoke(name, "{\"tag\":\"warm\"}").requestId();
    awaitLogEvents(name, "REPORT RequestId: " + warm);
    long end = logs(name, "?position=-1").json().path("nextPosition").asLong();

    long started = System.nanoTime();
    CompletableFuture<SignedHttp.Response> polling =
        CompletableFuture.supplyAsync(() -> logs(name, "?position=" + end + "&wait=15"));
    Thread.sleep(700);
    assertThat(polling).as("still waiting: nothing new yet").isNotDone();
    lambda.invoke(
        b -> b.functionName(name).invocationType(InvocationType.EVENT).payload(SdkBytes.fromUtf8String("{\"tag\":\"late\"}")));
    SignedHttp.Response page = polling.get(15, TimeUnit.SECONDS);
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    assertThat(page.status()).isEqualTo(200);
    assertThat(page.json().path("events")).isNotEmpty();
    assertThat(tookMs).as("answered when the events came, not at the end of the wait").isLessThan(8000);
  }

  @Test
  void the_log_api_checks_its_caller_and_arguments() throws Exception {
    String name = chatty("logs-errors");
    SignedHttp.Response missing = logs(uniqueName("nobody"), "?position=0");
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.errorType()).isEqualTo("ResourceNotFoundException");

    SignedHttp.Response badPosition = logs(name, "?position=abc");
    assertThat(badPosition.status()).as("%s", badPosition).isEqualTo(400);

    HttpResponse<String> unsigned =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(server.endpoint() + "/kiln/v1/functions/" + name + "/logs")).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(unsigned.statusCode()).as("unsigned: %s", unsigned.body()).isEqualTo(403);
  }

  /**
   * Lines a handler prints right before it returns belong to that invocation: in its X-Amz-Log-Result
   * and under its request id in the stored log, never in the next invocation's.
   */
  @Test
  void every_printed_line_lands_in_its_own_invocations_log() {
    String name = chatty("logs-race");
    invoke(name, "{\"tag\":\"warm-up\"}");
    List<String> problems = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String tag = "call-" + i;
      Invocation call = invoke(name, "{\"tag\":\"" + tag + "\"}");
      ids.add(call.requestId());
      if (!call.log().contains("first line of " + tag + "\n") || !call.log().contains("second line of " + tag + "\n")) {
        problems.add("tail of " + tag + " (" + call.requestId() + ") lacks its lines:\n" + call.log());
      }
    }
    // One more call flushes anything still held back, so a line filed late shows up below.
    invoke(name, "{\"tag\":\"flush\"}");
    List<JsonNode> stored = awaitLogEvents(name, "first line of flush");
    for (int i = 0; i < ids.size(); i++) {
      String tag = "call-" + i;
      String id = ids.get(i);
      for (JsonNode e : stored) {
        String message = e.path("message").asString();
        if ((message.endsWith("first line of " + tag) || message.endsWith("second line of " + tag))
            && !id.equals(e.path("requestId").asString())) {
          problems.add("stored line '" + message + "' is filed under request " + e.path("requestId").asString()
              + " instead of " + id);
        }
      }
    }
    assertThat(problems).as("lines printed by a handler that missed their invocation's log").isEmpty();
  }

  @Test
  void the_log_tail_holds_the_last_4_kb() {
    String name = chatty("logs-tail");
    Invocation noisy = invoke(name, "{\"tag\":\"noisy\",\"lines\":100}");
    assertThat(noisy.ok().asString()).isEqualTo("noisy");
    byte[] tail = noisy.log().getBytes(StandardCharsets.UTF_8);
    assertThat(tail.length).as("X-Amz-Log-Result is at most 4 KB").isLessThanOrEqualTo(4096).isGreaterThan(3000);
    assertThat(noisy.log()).contains("REPORT RequestId:").contains("filler 99").doesNotContain("filler 0 ");
    // The stored log keeps every line.
    List<JsonNode> stored = awaitLogEvents(name, "filler 99");
    assertThat(stored).anyMatch(e -> e.path("message").asString().contains("\tfiller 0 "));
  }

  @Test
  void output_without_a_final_newline_and_replaced_stdout_still_land_in_the_log() {
    String node = deploy("logs-unterminated", "nodejs22.x", "index.handler", Functions.node("""
        const realWrite = process.stdout.write;
        exports.handler = async (event) => {
          process.stdout.write = realWrite;
          process.stdout.write('node unterminated ' + event.tag);
          process.stdout.write = () => true; // a handler that silences stdout must not hold up its log
          return event.tag;
        };
        """));
    String python = deploy("logs-unterminated-py", "python3.12", "lambda_function.handler", Functions.python("""
        import sys
        def handler(event, context):
            sys.stdout.write('python unterminated ' + event['tag'])
            return event['tag']
        """));
    for (int i = 0; i < 3; i++) {
      for (String[] fn : new String[][] {{node, "node"}, {python, "python"}}) {
        Invocation call = invoke(fn[0], "{\"tag\":\"t" + i + "\"}");
        assertThat(call.log()).as("tail of %s call %d", fn[1], i)
            .contains(fn[1] + " unterminated t" + i + "\n")
            .contains("END RequestId: " + call.requestId())
            .doesNotContain("KILN-END-OF-OUTPUT");
      }
    }
  }

  @Test
  void kiln_logs_prints_a_functions_log() throws Exception {
    String name = chatty("logs-cli");
    Invocation invocation = invoke(name, "{\"tag\":\"for-the-cli\"}");
    String id = invocation.requestId();
    awaitLogEvents(name, "REPORT RequestId: " + id);

    CliRun run = kilnLogs(name);
    assertThat(run.exitCode()).as("kiln logs: %s", run).isZero();
    List<String> lines = run.stdout().lines().toList();
    assertThat(lines).as("%s", run).anyMatch(l -> l.contains("first line of for-the-cli"));
    assertThat(lines).anyMatch(l -> l.contains("START RequestId: " + id));
    assertThat(lines).anyMatch(l -> l.contains("REPORT RequestId: " + id));
    assertThat(lines).allMatch(l -> l.matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z .*"));

    CliRun unknown = kilnLogs(uniqueName("nobody"));
    assertThat(unknown.exitCode()).as("%s", unknown).isNotZero();
    assertThat(unknown.stderr()).contains("ResourceNotFoundException");
  }

  private record CliRun(int exitCode, String stdout, String stderr) {}

  /** {@code java -jar kiln.jar logs NAME --endpoint URL} with the keys in the environment. */
  private CliRun kilnLogs(String name) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar",
            KilnServer.jar().toString(),
            "logs",
            name,
            "--endpoint",
            server.endpoint());
    builder.environment().keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("KILN_"));
    builder.environment().put("AWS_ACCESS_KEY_ID", accessKey);
    builder.environment().put("AWS_SECRET_ACCESS_KEY", secretKey);
    builder.directory(workDir.toFile());
    Process p = builder.start();
    CompletableFuture<String> err =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
              } catch (java.io.IOException e) {
                return e.toString();
              }
            });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new CliRun(p.exitValue(), out, err.get());
  }
}
