package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.AsyncTestBase;
import dev.kiln.e2e.support.Functions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import tools.jackson.databind.JsonNode;

/**
 * An Event answered 202 is never lost: kill -9 of the server while events are queued, in flight
 * and waiting for a retry, then a restart on the same data, and every accepted request id still
 * runs (at least once), with its attempt count intact.
 *
 * <p>What ran is read from invocation records: each success queues one for an OnSuccess
 * destination in the same transaction that removes the event, and the destination function is
 * held at reserved concurrency 0 until the server is back, so every record is logged by a server
 * that stays up (a log line of an invocation that ended just before the kill may not be on disk).
 */
abstract class AsyncDurabilityContract extends AsyncTestBase {
  /** Takes a moment, so events pile up behind the reservation and some are in flight at the kill. */
  private static final String SLOW =
      """
      exports.handler = async (event) => {
        await new Promise(resolve => setTimeout(resolve, 300));
        return event.n;
      };
      """;
  private static final Pattern RECORD =
      Pattern.compile("record \\{.*\"requestId\":\"([0-9a-f-]{36})\".*\"condition\":\"Success\".*"
          + "\"requestPayload\":\\{\"n\":(\\d+)\\}");

  @Override
  protected List<String> serverArgs() {
    // Long enough that a retry is still pending when the test kills the server after the first attempt.
    return List.of("--async-retry-base", "PT4S");
  }

  @AfterEach
  void serverBackUp() {
    if (!server.isRunning()) {
      server.restart();
      connectClients();
    }
  }

  @Test
  void every_accepted_event_runs_at_least_once_across_a_kill_9() throws Exception {
    String f = deploy("durable-async", "nodejs22.x", "index.handler", Functions.node(SLOW));
    String recorder = deployRecorder("durable-async-rec");
    lambda.putFunctionConcurrency(b -> b.functionName(f).reservedConcurrentExecutions(4));
    lambda.putFunctionConcurrency(b -> b.functionName(recorder).reservedConcurrentExecutions(0));
    lambda.putFunctionEventInvokeConfig(b -> b.functionName(f)
        .destinationConfig(d -> d.onSuccess(s -> s.destination(arn(recorder)))));
    int total = 200;
    int senders = 4;
    int killAfter = 150;
    Map<String, Integer> accepted = new ConcurrentHashMap<>();
    var killPoint = new CountDownLatch(killAfter);
    var next = new AtomicInteger();
    LambdaClient client = lambda;
    List<Thread> threads = new ArrayList<>();
    for (int s = 0; s < senders; s++) {
      threads.add(Thread.ofPlatform().name("async-sender-" + s).start(() -> {
        for (int n = next.getAndIncrement(); n < total; n = next.getAndIncrement()) {
          int number = n;
          try {
            var response = client.invoke(b -> b.functionName(f).invocationType(InvocationType.EVENT)
                .payload(SdkBytes.fromUtf8String("{\"n\":" + number + "}")));
            accepted.put(response.responseMetadata().requestId(), number);
            killPoint.countDown();
          } catch (SdkException e) {
            // The server died under this request: it was never acknowledged, so nothing is promised.
            break;
          }
        }
      }));
    }
    assertThat(killPoint.await(120, TimeUnit.SECONDS)).as("%d events accepted", killAfter).isTrue();
    long ranBeforeKill = reports(f);
    server.crash();
    for (var thread : threads) {
      thread.join(TimeUnit.SECONDS.toMillis(60));
    }
    int acceptedCount = accepted.size();
    assertThat(acceptedCount).isGreaterThanOrEqualTo(killAfter);
    assertThat(ranBeforeKill).as("events were still queued when the server was killed").isLessThan(acceptedCount);

    server.restart();
    connectClients();
    lambda.deleteFunctionConcurrency(b -> b.functionName(recorder));
    try {
      Awaitility.await("a Success record of every accepted event").atMost(Duration.ofSeconds(150))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> recorded(recorder).keySet().containsAll(accepted.keySet()));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      var missing = new TreeSet<>(accepted.keySet());
      missing.removeAll(recorded(recorder).keySet());
      throw new AssertionError(missing.size() + " of " + acceptedCount + " accepted events never ran: " + missing, e);
    }
    var recorded = recorded(recorder);
    for (var e : accepted.entrySet()) {
      assertThat(recorded.get(e.getKey())).as("the payload event %s ran with", e.getKey()).isEqualTo(e.getValue());
    }
    System.out.printf("async kill -9: %d accepted, about %d ran before the kill, %d runs in all%n", acceptedCount,
        ranBeforeKill, reports(f));
  }

  @Test
  void a_pending_retry_survives_a_kill_9_with_its_attempt_count() {
    String f = deployFlaky("durable-retry");
    String recorder = deployRecorder("durable-retry-rec");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName(f).maximumRetryAttempts(2)
        .destinationConfig(d -> d.onFailure(o -> o.destination(arn(recorder)))));

    String requestId = sendEvent(f, "{\"tag\":\"survivor\",\"fail\":true,\"sleepMs\":50}");
    Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> attempts(f, requestId).size() == 1);
    // The failed first attempt is settled (rescheduled) within milliseconds of its log; the retry is 4 s away.
    sleepQuietly(Duration.ofMillis(1000));
    server.crash();
    server.restart();
    connectClients();

    JsonNode record = awaitRecord(recorder, requestId, Duration.ofSeconds(90));
    assertThat(record.path("requestContext").path("condition").asString()).isEqualTo("RetriesExhausted");
    assertThat(record.path("requestContext").path("approximateInvokeCount").asInt())
        .as("the attempt made before the kill still counts").isEqualTo(3);
    assertThat(attempts(f, requestId)).hasSize(3);
  }

  /** Invocations of the function that ended (its worker-written REPORT lines). */
  private long reports(String function) {
    return logEvents(function, 0).stream()
        .filter(e -> e.path("message").asString().startsWith("REPORT RequestId: "))
        .count();
  }

  /** Request id -> the n of its payload, from the Success records the recorder logged. */
  private Map<String, Integer> recorded(String recorder) {
    Map<String, Integer> recorded = new HashMap<>();
    for (JsonNode e : logEvents(recorder, 0)) {
      Matcher m = RECORD.matcher(e.path("message").asString());
      if (m.find()) {
        recorded.put(m.group(1), Integer.parseInt(m.group(2)));
      }
    }
    return recorded;
  }

  private static void sleepQuietly(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
