package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.AsyncTestBase;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Sdk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import tools.jackson.databind.JsonNode;

/**
 * Asynchronous invocation as Lambda does it: Event invokes answered 202 with the request id the
 * function sees, retries of function errors (handler errors and timeouts) with back-off, throttles
 * waiting for capacity without counting as attempts, the maximum event age, invocation records at
 * OnSuccess/OnFailure destinations, the legacy InvokeAsync, and queued events going with their
 * function. The server retries after 2 s (then 4 s) instead of Lambda's minutes: not 1 s, which is
 * when the worker freezes an idle environment, so a retry would often get a new one and the flaky
 * function's per-environment attempt count would start over.
 */
class AsyncInvokeTest extends AsyncTestBase {
  private static final Duration RECORD_WAIT = Duration.ofSeconds(60);

  @Override
  protected List<String> serverArgs() {
    return List.of("--async-retry-base", "PT2S");
  }

  @Test
  void an_event_runs_once_with_the_request_id_and_client_context_of_its_202() {
    String f = deployFlaky("async-basic");
    String requestId = lambda.invoke(b -> b.functionName(f).invocationType(InvocationType.EVENT)
            .clientContext(clientContext("{\"custom\":{\"from\":\"sdk\"}}"))
            .payload(SdkBytes.fromUtf8String("{\"tag\":\"basic\"}")))
        .responseMetadata().requestId();
    Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> !attempts(f, requestId).isEmpty());
    assertThat(attempts(f, requestId)).singleElement().asString()
        .contains("attempt 1 ").contains("tag=basic").contains("custom={\"from\":\"sdk\"}");

    // The aws CLI: 202 and no payload.
    JsonNode cliEvent = cli.lambda("invoke", "--function-name", f, "--invocation-type", "Event", "--payload",
        "{\"tag\":\"from-cli\"}", workDir.resolve("event-out.json").toString()).json();
    assertThat(cliEvent.path("StatusCode").asInt()).isEqualTo(202);
    awaitLogEvents(f, "tag=from-cli");

    // Accepted only for what exists, as before: nothing is queued for a missing function or alias.
    Sdk.expectError(404, "ResourceNotFoundException", () -> lambda.invoke(b -> b.functionName(uniqueName("none"))
        .invocationType(InvocationType.EVENT).payload(SdkBytes.fromUtf8String("{}"))));
    Sdk.expectError(404, "ResourceNotFoundException", () -> lambda.invoke(b -> b.functionName(f).qualifier("nope")
        .invocationType(InvocationType.EVENT).payload(SdkBytes.fromUtf8String("{}"))));
  }

  @Test
  void function_errors_are_retried_with_back_off_and_the_success_is_recorded() {
    String f = deployFlaky("async-retry");
    String recorder = deployRecorder("async-retry-rec");
    cli.lambda("put-function-event-invoke-config", "--function-name", f, "--maximum-retry-attempts", "2",
        "--destination-config", destinations(arn(recorder), null)).assertOk();

    String requestId = sendEvent(f, "{\"tag\":\"flaky\",\"failTimes\":2,\"sleepMs\":50}");
    JsonNode record = awaitRecord(recorder, requestId, RECORD_WAIT);

    assertThat(record.path("version").asString()).isEqualTo("1.0");
    assertThat(record.path("timestamp").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    JsonNode context = record.path("requestContext");
    assertThat(context.path("functionArn").asString()).isEqualTo(arn(f) + ":$LATEST");
    assertThat(context.path("condition").asString()).isEqualTo("Success");
    assertThat(context.path("approximateInvokeCount").asInt()).isEqualTo(3);
    assertThat(record.path("requestPayload").path("tag").asString()).isEqualTo("flaky");
    assertThat(record.path("responseContext").path("statusCode").asInt()).isEqualTo(200);
    assertThat(record.path("responseContext").path("executedVersion").asString()).isEqualTo("$LATEST");
    assertThat(record.path("responseContext").has("functionError")).isFalse();
    assertThat(record.path("responsePayload").path("attempts").asInt()).isEqualTo(3);

    List<String> attempts = attempts(f, requestId);
    assertThat(attempts).hasSize(3);
    // Back-off: 2 s after the first failure, 4 s after the second (the server's --async-retry-base).
    assertThat(attemptTime(attempts.get(1)) - attemptTime(attempts.get(0))).isGreaterThanOrEqualTo(1950);
    assertThat(attemptTime(attempts.get(2)) - attemptTime(attempts.get(1))).isGreaterThanOrEqualTo(3950);
  }

  @Test
  void retries_exhausted_send_the_last_error_to_on_failure() {
    String f = deployFlaky("async-exhaust");
    String recorder = deployRecorder("async-exhaust-rec");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName(f).maximumRetryAttempts(1)
        .destinationConfig(d -> d.onFailure(o -> o.destination(arn(recorder)))
            .onSuccess(s -> s.destination(arn(recorder)))));

    String requestId = sendEvent(f, "{\"tag\":\"doomed\",\"fail\":true,\"sleepMs\":50}");
    JsonNode record = awaitRecord(recorder, requestId, RECORD_WAIT);

    assertThat(record.path("requestContext").path("condition").asString()).isEqualTo("RetriesExhausted");
    assertThat(record.path("requestContext").path("approximateInvokeCount").asInt()).isEqualTo(2);
    assertThat(record.path("requestPayload").path("fail").asBoolean()).isTrue();
    assertThat(record.path("responseContext").path("functionError").asString()).isEqualTo("Unhandled");
    assertThat(record.path("responsePayload").path("errorType").asString()).isEqualTo("Error");
    assertThat(record.path("responsePayload").path("errorMessage").asString()).matches("failing attempt \\d of doomed");
    // Settled for good: exactly the first try and one retry ran.
    assertThat(attempts(f, requestId)).hasSize(2);
  }

  @Test
  void timeouts_are_function_errors_and_zero_retries_means_one_attempt() {
    String f = deploy("async-timeout", "nodejs22.x", "index.handler", Functions.node(FLAKY), b -> b.timeout(1));
    String recorder = deployRecorder("async-timeout-rec");
    cli.lambda("put-function-event-invoke-config", "--function-name", f, "--maximum-retry-attempts", "0",
        "--destination-config", destinations(null, arn(recorder))).assertOk();

    String requestId = sendEvent(f, "{\"tag\":\"slow\",\"sleepMs\":3000}");
    JsonNode record = awaitRecord(recorder, requestId, RECORD_WAIT);

    assertThat(record.path("requestContext").path("condition").asString()).isEqualTo("RetriesExhausted");
    assertThat(record.path("requestContext").path("approximateInvokeCount").asInt()).isEqualTo(1);
    assertThat(record.path("responseContext").path("functionError").asString()).isEqualTo("Unhandled");
    assertThat(record.path("responsePayload").path("errorType").asString()).isEqualTo("Sandbox.Timedout");
    assertThat(attempts(f, requestId)).hasSize(1);
  }

  @Test
  void throttled_events_wait_for_capacity_without_using_up_attempts() throws InterruptedException {
    String f = deployFlaky("async-throttled");
    String recorder = deployRecorder("async-throttled-rec");
    lambda.putFunctionConcurrency(b -> b.functionName(f).reservedConcurrentExecutions(0));
    lambda.putFunctionEventInvokeConfig(b -> b.functionName(f).maximumRetryAttempts(0)
        .destinationConfig(d -> d.onSuccess(s -> s.destination(arn(recorder)))));

    String requestId = sendEvent(f, "{\"tag\":\"patient\"}");
    // Long enough to be refused by admission many times over (a waiting event tries every 100 ms).
    Thread.sleep(3500);
    assertThat(attempts(f, requestId)).as("nothing runs while the reservation is 0").isEmpty();
    lambda.deleteFunctionConcurrency(b -> b.functionName(f));

    JsonNode record = awaitRecord(recorder, requestId, RECORD_WAIT);
    assertThat(record.path("requestContext").path("condition").asString()).isEqualTo("Success");
    assertThat(record.path("requestContext").path("approximateInvokeCount").asInt())
        .as("throttles are not attempts, even with MaximumRetryAttempts 0").isEqualTo(1);
  }

  @Test
  void an_event_older_than_the_maximum_age_is_discarded_to_on_failure() {
    String f = deployFlaky("async-old");
    String recorder = deployRecorder("async-old-rec");
    lambda.putFunctionConcurrency(b -> b.functionName(f).reservedConcurrentExecutions(0));
    lambda.putFunctionEventInvokeConfig(b -> b.functionName(f).maximumEventAgeInSeconds(60)
        .destinationConfig(d -> d.onFailure(o -> o.destination(arn(recorder)))));

    Instant sent = Instant.now();
    String requestId = sendEvent(f, "{\"tag\":\"stale\"}");
    JsonNode record = awaitRecord(recorder, requestId, Duration.ofSeconds(150));

    assertThat(Duration.between(sent, Instant.now())).isGreaterThanOrEqualTo(Duration.ofSeconds(59));
    assertThat(record.path("requestContext").path("condition").asString()).isEqualTo("EventAgeExceeded");
    assertThat(record.path("requestContext").path("approximateInvokeCount").asInt()).isZero();
    assertThat(record.path("requestPayload").path("tag").asString()).isEqualTo("stale");
    assertThat(record.has("responseContext")).as("the function never ran").isFalse();
    assertThat(record.has("responsePayload")).isFalse();

    // Discarded for good: capacity coming back does not run it.
    lambda.deleteFunctionConcurrency(b -> b.functionName(f));
    String marker = sendEvent(f, "{\"tag\":\"after-capacity\"}");
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !attempts(f, marker).isEmpty());
    assertThat(attempts(f, requestId)).isEmpty();
  }

  @Test
  void the_legacy_invoke_async_through_the_cli() throws IOException {
    String f = deployFlaky("async-legacy");
    Path args = Files.writeString(workDir.resolve("invoke-args.json"), "{\"tag\":\"legacy\"}");
    JsonNode answer = cli.lambda("invoke-async", "--function-name", f, "--invoke-args", args.toString()).json();
    assertThat(answer.path("Status").asInt()).isEqualTo(202);
    awaitLogEvents(f, "tag=legacy");

    Path tooLarge = Files.writeString(workDir.resolve("too-large.json"), "\"" + "x".repeat(256 * 1024) + "\"");
    cli.lambda("invoke-async", "--function-name", f, "--invoke-args", tooLarge.toString())
        .assertError("RequestTooLargeException");
    Path notJson = Files.writeString(workDir.resolve("not-json.txt"), "not json {");
    cli.lambda("invoke-async", "--function-name", f, "--invoke-args", notJson.toString())
        .assertError("InvalidRequestContentException");
    cli.lambda("invoke-async", "--function-name", uniqueName("none"), "--invoke-args", args.toString())
        .assertError("ResourceNotFoundException");
  }

  @Test
  void deleting_a_function_drops_its_queued_events() {
    String f = deployFlaky("async-dropped");
    lambda.putFunctionConcurrency(b -> b.functionName(f).reservedConcurrentExecutions(0));
    List<String> queued = List.of(sendEvent(f, "{\"tag\":\"old-1\"}"), sendEvent(f, "{\"tag\":\"old-2\"}"));
    lambda.deleteFunction(b -> b.functionName(f));
    createActiveFunction(f, Functions.node(FLAKY));

    String marker = sendEvent(f, "{\"tag\":\"new\"}");
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !attempts(f, marker).isEmpty());
    // The old events were due long before the new one: had they survived, they would run now.
    Awaitility.await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
        .until(() -> queued.stream().allMatch(id -> attempts(f, id).isEmpty()));
  }

  @Test
  void a_destination_that_is_gone_does_not_block_the_queue() {
    String f = deployFlaky("async-ghost");
    String ghost = deployRecorder("async-ghost-rec");
    lambda.putFunctionEventInvokeConfig(b -> b.functionName(f)
        .destinationConfig(d -> d.onSuccess(s -> s.destination(arn(ghost)))));
    lambda.deleteFunction(b -> b.functionName(ghost));

    String first = sendEvent(f, "{\"tag\":\"to-nowhere\"}");
    String second = sendEvent(f, "{\"tag\":\"next\"}");
    Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> !attempts(f, first).isEmpty() && !attempts(f, second).isEmpty());
    Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> server.output().contains("record of async event " + first + " was not delivered"));
    assertThat(attempts(f, first)).as("settled once, not retried").hasSize(1);
  }
}
