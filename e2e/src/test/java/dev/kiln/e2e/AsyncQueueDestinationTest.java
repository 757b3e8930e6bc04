package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.AsyncTestBase;
import dev.kiln.e2e.support.ElasticMq;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;
import tools.jackson.databind.JsonNode;

/**
 * Asynchronous invocations whose destinations and dead-letter queue are SQS queues, on a real
 * SQS-compatible server (ElasticMQ) reached through {@code --sqs-endpoint}: OnSuccess and OnFailure
 * records land in their queues in Lambda's record format, and an event whose retries are exhausted
 * lands in the function's DeadLetterConfig queue as its original payload with RequestID, ErrorCode
 * and ErrorMessage attributes.
 */
class AsyncQueueDestinationTest extends AsyncTestBase {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private ElasticMq sqs;

  @Override
  protected List<String> serverArgs() {
    sqs = ElasticMq.start();
    return List.of("--sqs-endpoint", sqs.endpoint(), "--async-retry-base", "PT2S");
  }

  @AfterAll
  void stopElasticMq() {
    if (sqs != null) {
      sqs.close();
    }
  }

  @Test
  void records_and_dead_letters_reach_their_queues() {
    String f = deployFlaky("async-sqs");
    String successQueue = sqs.createQueue(uniqueName("on-success"), 30);
    String failureQueue = sqs.createQueue(uniqueName("on-failure"), 30);
    String deadLetters = sqs.createQueue(uniqueName("dlq"), 30);
    lambda.updateFunctionConfiguration(b -> b.functionName(f).deadLetterConfig(d -> d.targetArn(deadLetters)));
    awaitUpdated(f);
    // Through the aws CLI, as a user would configure it.
    cli.lambda("put-function-event-invoke-config", "--function-name", f, "--maximum-retry-attempts", "1",
        "--destination-config", destinations(successQueue, failureQueue)).assertOk();

    String ok = sendEvent(f, "{\"tag\":\"fine\"}");
    String doomed = sendEvent(f, "{\"tag\":\"doomed\",\"fail\":true}");

    JsonNode success = json(awaitMessage(queueName(successQueue)).body());
    assertThat(success.path("requestContext").path("requestId").asString()).isEqualTo(ok);
    assertThat(success.path("requestContext").path("condition").asString()).isEqualTo("Success");
    assertThat(success.path("requestContext").path("approximateInvokeCount").asInt()).isEqualTo(1);
    assertThat(success.path("requestPayload").path("tag").asString()).isEqualTo("fine");
    assertThat(success.path("responsePayload").path("tag").asString()).isEqualTo("fine");

    JsonNode failure = json(awaitMessage(queueName(failureQueue)).body());
    assertThat(failure.path("requestContext").path("requestId").asString()).isEqualTo(doomed);
    assertThat(failure.path("requestContext").path("condition").asString()).isEqualTo("RetriesExhausted");
    assertThat(failure.path("requestContext").path("approximateInvokeCount").asInt()).isEqualTo(2);
    assertThat(failure.path("responseContext").path("functionError").asString()).isEqualTo("Unhandled");

    Message deadLetter = awaitMessage(queueName(deadLetters));
    assertThat(json(deadLetter.body()).path("tag").asString()).as("the original payload").isEqualTo("doomed");
    assertThat(deadLetter.messageAttributes().get("RequestID").stringValue()).isEqualTo(doomed);
    assertThat(deadLetter.messageAttributes()).containsKeys("ErrorCode", "ErrorMessage");
    // The successful event left nothing in the dead-letter queue.
    assertThat(sqs.messagesLeft(queueName(deadLetters))).isZero();
  }

  @Test
  void a_queue_destination_without_an_endpoint_for_its_region_is_refused() {
    String f = deployFlaky("async-sqs-bad");
    // Not an SQS ARN at all: refused by validation.
    cli.lambda("put-function-event-invoke-config", "--function-name", f, "--destination-config",
        destinations("arn:aws:sqs:us-east-1:000000000000", null)).assertError("InvalidParameterValueException");
  }

  private static String queueName(String arn) {
    return arn.substring(arn.lastIndexOf(':') + 1);
  }

  /** The first message of a queue, received with its attributes and deleted. */
  private Message awaitMessage(String queue) {
    List<Message> got = new ArrayList<>();
    Awaitility.await("a message in " + queue).atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> {
      got.addAll(sqs.client().receiveMessage(b -> b.queueUrl(sqs.url(queue)).maxNumberOfMessages(1)
          .waitTimeSeconds(1).messageAttributeNames("All")).messages());
      return !got.isEmpty();
    });
    Message message = got.getFirst();
    sqs.client().deleteMessage(b -> b.queueUrl(sqs.url(queue)).receiptHandle(message.receiptHandle()));
    return message;
  }
}
