package dev.kiln.invoke.async;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.invoke.async.InvocationRecord.Condition;
import dev.kiln.worker.InvocationResult;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The invocation record a destination gets, member for member as Lambda sends it. */
class InvocationRecordTest {
  private static final String ARN = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST";

  @Test
  void aSuccessCarriesTheRequestAndTheResponse() {
    var result = new InvocationResult(bytes("{\"ok\":true}"), null, null, "$LATEST", 3.2, null);
    JsonNode record = read(InvocationRecord.of(Instant.parse("2026-01-02T03:04:05Z"), "req-1", ARN, Condition.Success,
        1, bytes("{\"n\":1}"), result));

    assertThat(record.path("version").asString()).isEqualTo("1.0");
    assertThat(record.path("timestamp").asString()).isEqualTo("2026-01-02T03:04:05.000Z");
    assertThat(record.path("requestContext").path("requestId").asString()).isEqualTo("req-1");
    assertThat(record.path("requestContext").path("functionArn").asString()).isEqualTo(ARN);
    assertThat(record.path("requestContext").path("condition").asString()).isEqualTo("Success");
    assertThat(record.path("requestContext").path("approximateInvokeCount").asInt()).isEqualTo(1);
    assertThat(record.path("requestPayload").path("n").asInt()).isEqualTo(1);
    assertThat(record.path("responseContext").path("statusCode").asInt()).isEqualTo(200);
    assertThat(record.path("responseContext").path("executedVersion").asString()).isEqualTo("$LATEST");
    assertThat(record.path("responseContext").has("functionError")).isFalse();
    assertThat(record.path("responsePayload").path("ok").asBoolean()).isTrue();
  }

  @Test
  void aFailureCarriesTheFunctionErrorAndAnEventThatNeverRanNoResponse() {
    var failed = new InvocationResult(bytes("{\"errorType\":\"Error\",\"errorMessage\":\"boom\"}"), "Unhandled", null,
        "3", 1, null);
    JsonNode exhausted = read(InvocationRecord.of(Instant.now(), "req-2", ARN, Condition.RetriesExhausted, 3,
        bytes("\"text\""), failed));
    assertThat(exhausted.path("responseContext").path("functionError").asString()).isEqualTo("Unhandled");
    assertThat(exhausted.path("responseContext").path("executedVersion").asString()).isEqualTo("3");
    assertThat(exhausted.path("responsePayload").path("errorMessage").asString()).isEqualTo("boom");
    assertThat(exhausted.path("requestPayload").asString()).isEqualTo("text");
    assertThat(InvocationRecord.deadLetterAttributes("req-2", failed, "unused"))
        .containsEntry("RequestID", "req-2").containsEntry("ErrorCode", "200").containsEntry("ErrorMessage", "boom");

    JsonNode expired = read(InvocationRecord.of(Instant.now(), "req-3", ARN, Condition.EventAgeExceeded, 0,
        bytes("{}"), null));
    assertThat(expired.path("requestContext").path("condition").asString()).isEqualTo("EventAgeExceeded");
    assertThat(expired.path("requestContext").path("approximateInvokeCount").asInt()).isZero();
    assertThat(expired.has("responseContext")).isFalse();
    assertThat(expired.has("responsePayload")).isFalse();
  }

  @Test
  void aResponseThatIsNotJsonIsKeptAsText() {
    var plain = new InvocationResult(bytes("not json"), null, null, "$LATEST", 1, null);
    JsonNode record = read(InvocationRecord.of(Instant.now(), "req-4", ARN, Condition.Success, 1, bytes("{}"), plain));
    assertThat(record.path("responsePayload").asString()).isEqualTo("not json");
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static JsonNode read(byte[] json) {
    return InvocationRecord.JSON.readTree(json);
  }
}
