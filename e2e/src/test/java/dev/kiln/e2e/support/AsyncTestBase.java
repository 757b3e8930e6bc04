package dev.kiln.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import tools.jackson.databind.JsonNode;

/**
 * Helpers for the asynchronous-invocation areas: a function that fails on demand and logs every
 * attempt, a recorder function that logs every invocation record a destination sends it, and
 * readers for both logs.
 */
public abstract class AsyncTestBase extends InvokeTestBase {
  /**
   * Logs "attempt N at MILLIS tag=T" for each run of an event (N counted per request id in this
   * environment), sleeps {@code sleepMs}, and fails while N <= {@code failTimes} (always when
   * {@code fail} is true).
   */
  protected static final String FLAKY =
      """
      const attempts = {};
      exports.handler = async (event, context) => {
        const n = (attempts[context.awsRequestId] || 0) + 1;
        attempts[context.awsRequestId] = n;
        const custom = context.clientContext ? JSON.stringify(context.clientContext.custom) : 'none';
        console.log(`attempt ${n} at ${Date.now()} tag=${event.tag} custom=${custom}`);
        if (event.sleepMs) await new Promise(resolve => setTimeout(resolve, event.sleepMs));
        if (event.fail || n <= (event.failTimes || 0)) throw new Error(`failing attempt ${n} of ${event.tag}`);
        return { tag: event.tag, attempts: n };
      };
      """;

  /**
   * Logs "record " + the JSON of whatever it is sent: the invocation records of a destination. It
   * pauses after printing, so the line is in the log before the invocation ends however busy the
   * machine is (output that reaches the worker later belongs to the environment's next invocation).
   */
  protected static final String RECORDER =
      """
      exports.handler = async (event) => {
        console.log('record ' + JSON.stringify(event));
        await new Promise(resolve => setTimeout(resolve, 50));
        return 'recorded';
      };
      """;

  protected String deployFlaky(String prefix) {
    return deploy(prefix, "nodejs22.x", "index.handler", Functions.node(FLAKY));
  }

  protected String deployRecorder(String prefix) {
    return deploy(prefix, "nodejs22.x", "index.handler", Functions.node(RECORDER));
  }

  /** An Event invoke through the SDK; returns the request id of the 202. */
  protected String sendEvent(String function, String payload) {
    InvokeResponse response = lambda.invoke(b -> b.functionName(function).invocationType(InvocationType.EVENT)
        .payload(SdkBytes.fromUtf8String(payload)));
    assertThat(response.statusCode()).isEqualTo(202);
    String requestId = response.responseMetadata().requestId();
    assertThat(requestId).as("x-amzn-RequestId of the 202").matches("[0-9a-f-]{36}");
    return requestId;
  }

  /**
   * The "attempt ..." lines the flaky function logged for one request id, in order. The id is read
   * from the line itself (Node prints it), so a line that reached the log late still counts.
   */
  protected List<String> attempts(String function, String requestId) {
    return logEvents(function, 0).stream()
        .map(e -> e.path("message").asString())
        .filter(m -> m.contains("\t" + requestId + "\tINFO\tattempt "))
        .map(m -> m.substring(m.indexOf("\tattempt ") + 1))
        .toList();
  }

  /** Milliseconds in an "attempt N at MILLIS ..." line. */
  protected static long attemptTime(String line) {
    return Long.parseLong(line.split(" ")[3]);
  }

  /** Every invocation record the recorder function has logged so far, oldest first. */
  protected List<JsonNode> records(String recorder) {
    List<JsonNode> records = new ArrayList<>();
    for (JsonNode e : logEvents(recorder, 0)) {
      String message = e.path("message").asString();
      int at = message.indexOf("\trecord {");
      if (at >= 0) {
        records.add(json(message.substring(at + "\trecord ".length())));
      }
    }
    return records;
  }

  /** Waits for the recorder's record of the event with this request id. */
  protected JsonNode awaitRecord(String recorder, String requestId, Duration atMost) {
    List<JsonNode> found = new ArrayList<>();
    Awaitility.await("invocation record of " + requestId + " at " + recorder)
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          found.clear();
          records(recorder).stream()
              .filter(r -> requestId.equals(r.path("requestContext").path("requestId").asString()))
              .forEach(found::add);
          return !found.isEmpty();
        });
    assertThat(found).as("records of %s", requestId).hasSize(1);
    return found.getFirst();
  }

  /** The JSON for --destination-config / DestinationConfig with the given ARNs (null: none). */
  protected static String destinations(String onSuccess, String onFailure) {
    return "{\"OnSuccess\":" + (onSuccess == null ? "{}" : "{\"Destination\":\"" + onSuccess + "\"}")
        + ",\"OnFailure\":" + (onFailure == null ? "{}" : "{\"Destination\":\"" + onFailure + "\"}") + "}";
  }
}
