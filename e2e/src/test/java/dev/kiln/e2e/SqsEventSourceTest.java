package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.e2e.support.ElasticMq;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.Sdk;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.Filter;
import software.amazon.awssdk.services.lambda.model.FilterCriteria;
import software.amazon.awssdk.services.lambda.model.FunctionResponseType;
import software.amazon.awssdk.services.lambda.model.GetEventSourceMappingResponse;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import tools.jackson.databind.JsonNode;

/**
 * Event-source mappings of SQS-compatible queues, against a real ElasticMQ: the mapping API through
 * the aws CLI and the SDK, delivery in Lambda's event shape, deletes only after success, partial
 * batch failures, filters, disabling, and a mapping that outlives a server restart.
 */
class SqsEventSourceTest extends InvokeTestBase {
  /**
   * Logs every record it gets; fails the records whose body says {"fail":true} through
   * batchItemFailures, and answers a batch holding {"bogus":true} with an ID from no batch.
   */
  private static final String RECORDER = """
      exports.handler = async (event) => {
        const failures = [];
        let bogus = false;
        for (const record of event.Records) {
          console.log('SQS-RECORD ' + JSON.stringify(record));
          let body = {};
          try { body = JSON.parse(record.body); } catch (e) {}
          if (body.bogus) bogus = true;
          if (body.fail) failures.push({ itemIdentifier: record.messageId });
        }
        if (bogus) return { batchItemFailures: [{ itemIdentifier: 'no-such-message' }] };
        return { batchItemFailures: failures };
      };
      """;
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private ElasticMq sqs;
  private String recorder;

  @Override
  protected List<String> serverArgs() {
    sqs = ElasticMq.start();
    return List.of("--sqs-endpoint", sqs.endpoint());
  }

  @AfterAll
  void stopElasticMq() {
    if (sqs != null) {
      sqs.close();
    }
  }

  private String recorder() {
    if (recorder == null) {
      recorder = deploy("sqs-recorder", "nodejs22.x", "index.handler", Functions.node(RECORDER));
    }
    return recorder;
  }

  /** Every record the function logged, in log order. */
  private List<JsonNode> records(String function) {
    var records = new ArrayList<JsonNode>();
    for (var event : logEvents(function, 0)) {
      var message = event.path("message").asString();
      int at = message.indexOf("SQS-RECORD {");
      if (at >= 0) {
        records.add(json(message.substring(at + "SQS-RECORD ".length()).strip()));
      }
    }
    return records;
  }

  private List<String> bodies(String function) {
    return records(function).stream().map(r -> r.path("body").asString()).toList();
  }

  private GetEventSourceMappingResponse awaitState(String uuid, String state) {
    return await("mapping " + uuid + " " + state).atMost(PATIENCE).pollInterval(Duration.ofMillis(200))
        .until(() -> lambda.getEventSourceMapping(b -> b.uuid(uuid)), m -> m.state().equals(state));
  }

  private static String tag(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void mappings_are_created_read_listed_updated_and_deleted_through_the_aws_cli() {
    String function = deploy("sqs-cli", "nodejs22.x", "index.handler", Functions.node(RECORDER));
    String queue = tag("cli");
    String arn = sqs.createQueue(queue, 30);

    var created = cli.lambda("create-event-source-mapping", "--function-name", function, "--event-source-arn", arn,
        "--batch-size", "5").json();
    String uuid = created.path("UUID").asString();
    assertThat(uuid).matches("[0-9a-f-]{36}");
    assertThat(created.path("State").asString()).isEqualTo("Creating");
    assertThat(created.path("StateTransitionReason").asString()).isEqualTo("USER_INITIATED");
    assertThat(created.path("EventSourceArn").asString()).isEqualTo(arn);
    assertThat(created.path("FunctionArn").asString()).isEqualTo(arn(function));
    assertThat(created.path("BatchSize").asInt()).isEqualTo(5);
    assertThat(created.path("MaximumBatchingWindowInSeconds").asInt()).isZero();
    assertThat(created.has("LastModified")).isTrue();
    assertThat(created.has("StartingPosition")).as("no StartingPosition for SQS").isFalse();

    awaitState(uuid, "Enabled");
    var got = cli.lambda("get-event-source-mapping", "--uuid", uuid).json();
    assertThat(got.path("State").asString()).isEqualTo("Enabled");
    assertThat(got.path("UUID").asString()).isEqualTo(uuid);

    var listed = cli.lambda("list-event-source-mappings", "--function-name", function).json();
    assertThat(listed.path("EventSourceMappings")).extracting(m -> m.path("UUID").asString()).containsExactly(uuid);
    var byArn = cli.lambda("list-event-source-mappings", "--event-source-arn", arn).json();
    assertThat(byArn.path("EventSourceMappings")).extracting(m -> m.path("UUID").asString()).containsExactly(uuid);

    var disabled = cli.lambda("update-event-source-mapping", "--uuid", uuid, "--no-enabled", "--batch-size", "20",
        "--maximum-batching-window-in-seconds", "2").json();
    assertThat(disabled.path("State").asString()).isEqualTo("Disabling");
    assertThat(disabled.path("BatchSize").asInt()).isEqualTo(20);
    awaitState(uuid, "Disabled");

    // What Lambda refuses, Kiln refuses with Lambda's error codes.
    cli.lambda("create-event-source-mapping", "--function-name", function, "--event-source-arn", arn)
        .assertError("ResourceConflictException");
    cli.lambda("create-event-source-mapping", "--function-name", uniqueName("nobody"), "--event-source-arn", arn)
        .assertError("ResourceNotFoundException");
    cli.lambda("create-event-source-mapping", "--function-name", function, "--event-source-arn",
        ElasticMq.arn(tag("other")), "--batch-size", "11").assertError("InvalidParameterValueException");
    cli.lambda("create-event-source-mapping", "--function-name", function, "--event-source-arn",
        ElasticMq.arn(tag("other")), "--starting-position", "LATEST").assertError("InvalidParameterValueException");
    cli.lambda("create-event-source-mapping", "--function-name", function, "--event-source-arn",
        "arn:aws:kinesis:us-east-1:000000000000:stream/s").assertError("InvalidParameterValueException");
    cli.lambda("create-event-source-mapping", "--function-name", function, "--event-source-arn",
        ElasticMq.arn(tag("other")), "--filter-criteria", "{\"Filters\":[{\"Pattern\":\"{\\\"body\\\": 1}\"}]}")
        .assertError("InvalidParameterValueException");
    cli.lambda("update-event-source-mapping", "--uuid", uuid, "--maximum-batching-window-in-seconds", "0")
        .assertError("InvalidParameterValueException");
    cli.lambda("get-event-source-mapping", "--uuid", UUID.randomUUID().toString())
        .assertError("ResourceNotFoundException");

    var deleting = cli.lambda("delete-event-source-mapping", "--uuid", uuid).json();
    assertThat(deleting.path("State").asString()).isEqualTo("Deleting");
    await("mapping deleted").atMost(PATIENCE).until(
        () -> cli.lambda("get-event-source-mapping", "--uuid", uuid).errorCode(), "ResourceNotFoundException"::equals);
    cli.lambda("delete-event-source-mapping", "--uuid", uuid).assertError("ResourceNotFoundException");
  }

  @Test
  void the_sdk_sees_the_same_api_with_paging_and_a_function_delete_takes_its_mappings() {
    String function = deploy("sqs-sdk", "nodejs22.x", "index.handler", Functions.node(RECORDER));
    var uuids = new ArrayList<String>();
    for (int i = 0; i < 3; i++) {
      String arn = ElasticMq.arn(tag("sdk"));
      var created = lambda.createEventSourceMapping(b -> b.functionName(function).eventSourceArn(arn).enabled(false)
          .batchSize(50).maximumBatchingWindowInSeconds(3)
          .functionResponseTypes(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES)
          .filterCriteria(FilterCriteria.builder().filters(Filter.builder()
              .pattern("{\"body\":{\"kind\":[\"keep\"]}}").build()).build()));
      assertThat(created.functionResponseTypes()).containsExactly(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES);
      assertThat(created.filterCriteria().filters().getFirst().pattern()).isEqualTo("{\"body\":{\"kind\":[\"keep\"]}}");
      assertThat(created.lastModified()).isBetween(Instant.now().minusSeconds(60), Instant.now().plusSeconds(60));
      uuids.add(created.uuid());
    }
    var seen = new ArrayList<String>();
    String marker = null;
    do {
      String from = marker;
      var page = lambda.listEventSourceMappings(b -> b.functionName(function).maxItems(2).marker(from));
      assertThat(page.eventSourceMappings()).hasSizeLessThanOrEqualTo(2);
      page.eventSourceMappings().forEach(m -> seen.add(m.uuid()));
      marker = page.nextMarker();
    } while (marker != null);
    assertThat(seen).containsExactlyInAnyOrderElementsOf(uuids).doesNotHaveDuplicates();
    Sdk.expectError(400, "InvalidParameterValueException",
        () -> lambda.createEventSourceMapping(b -> b.functionName(function).eventSourceArn(ElasticMq.arn(tag("x")))
            .functionResponseTypesWithStrings("Everything")));

    lambda.deleteFunction(b -> b.functionName(function));
    assertThat(lambda.listEventSourceMappings(b -> b.functionName(function)).eventSourceMappings()).isEmpty();
    Sdk.expectError(404, "ResourceNotFoundException", () -> lambda.getEventSourceMapping(b -> b.uuid(uuids.getFirst())));
  }

  @Test
  void messages_reach_the_function_in_lambdas_shape_and_are_deleted_after_success() {
    String queue = tag("shape");
    String arn = sqs.createQueue(queue, 30);
    var sent = new HashSet<String>();
    for (int i = 0; i < 3; i++) {
      String body = "{\"order\":\"" + queue + "-" + i + "\"}";
      int n = i;
      sent.add(sqs.client().sendMessage(b -> b.queueUrl(sqs.url(queue)).messageBody(body).messageAttributes(Map.of(
          "source", MessageAttributeValue.builder().dataType("String").stringValue("test-" + n).build()))).messageId());
    }
    var mapping = lambda.createEventSourceMapping(b -> b.functionName(recorder()).eventSourceArn(arn).batchSize(10));

    var received = await("3 records at the function").atMost(PATIENCE).pollInterval(Duration.ofMillis(300))
        .until(() -> records(recorder()).stream().filter(r -> r.path("eventSourceARN").asString().equals(arn)).toList(),
            r -> r.size() >= 3);
    assertThat(received).extracting(r -> r.path("messageId").asString()).containsExactlyInAnyOrderElementsOf(sent);
    for (var record : received) {
      assertThat(record.path("receiptHandle").asString()).isNotBlank();
      assertThat(record.path("body").asString()).startsWith("{\"order\":\"" + queue);
      assertThat(record.path("attributes").path("ApproximateReceiveCount").asString()).isEqualTo("1");
      assertThat(record.path("attributes").path("SentTimestamp").asString()).matches("\\d{13}");
      assertThat(record.path("attributes").has("ApproximateFirstReceiveTimestamp")).isTrue();
      var attribute = record.path("messageAttributes").path("source");
      assertThat(attribute.path("stringValue").asString()).startsWith("test-");
      assertThat(attribute.path("dataType").asString()).isEqualTo("String");
      assertThat(attribute.path("stringListValues").isArray()).isTrue();
      assertThat(record.path("md5OfBody").asString()).matches("[0-9a-f]{32}");
      assertThat(record.path("eventSource").asString()).isEqualTo("aws:sqs");
      assertThat(record.path("awsRegion").asString()).isEqualTo(REGION);
    }
    await("processed messages deleted").atMost(PATIENCE).until(() -> sqs.messagesLeft(queue) == 0);
    var settled = awaitState(mapping.uuid(), "Enabled");
    assertThat(settled.lastProcessingResult()).isEqualTo("OK");
    lambda.deleteEventSourceMapping(b -> b.uuid(mapping.uuid()));
  }

  @Test
  void partial_batch_failures_leave_exactly_the_failed_messages_in_the_queue() {
    String queue = tag("partial");
    String arn = sqs.createQueue(queue, 2);
    var failing = new HashSet<String>();
    var all = new ArrayList<String>();
    for (int i = 0; i < 6; i++) {
      boolean fail = i % 3 == 0;
      String body = "{\"n\":\"" + queue + "-" + i + "\",\"fail\":" + fail + "}";
      sqs.send(queue, body);
      all.add(body);
      if (fail) {
        failing.add(body);
      }
    }
    var mapping = lambda.createEventSourceMapping(b -> b.functionName(recorder()).eventSourceArn(arn).batchSize(10)
        .functionResponseTypes(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES));

    // Each message was seen, and the failed ones again once their visibility timeout ran out.
    await("every message processed, the failed ones twice").atMost(PATIENCE).pollInterval(Duration.ofMillis(500))
        .until(() -> bodies(recorder()), bodies -> bodies.containsAll(all)
            && failing.stream().allMatch(f -> bodies.stream().filter(f::equals).count() >= 2));
    assertThat(bodies(recorder()).stream().filter(b -> all.contains(b) && !failing.contains(b)))
        .as("succeeded messages are processed once").doesNotHaveDuplicates();
    await("only the failed messages remain").atMost(PATIENCE).until(() -> sqs.messagesLeft(queue) == 2);

    lambda.updateEventSourceMapping(b -> b.uuid(mapping.uuid()).enabled(false));
    awaitState(mapping.uuid(), "Disabled");
    Set<String> left = new HashSet<>();
    await("the failed messages become visible again").atMost(PATIENCE).until(() -> {
      sqs.receive(queue).forEach(m -> left.add(m.body()));
      return left.size() >= 2;
    });
    assertThat(left).isEqualTo(failing);
    lambda.deleteEventSourceMapping(b -> b.uuid(mapping.uuid()));
  }

  @Test
  void a_malformed_batch_item_failures_response_fails_the_whole_batch() {
    String queue = tag("bogus");
    String arn = sqs.createQueue(queue, 1);
    String body = "{\"n\":\"" + queue + "\",\"bogus\":true}";
    sqs.send(queue, body);
    var mapping = lambda.createEventSourceMapping(b -> b.functionName(recorder()).eventSourceArn(arn)
        .functionResponseTypes(FunctionResponseType.REPORT_BATCH_ITEM_FAILURES));
    await("the message retried").atMost(PATIENCE).pollInterval(Duration.ofMillis(500))
        .until(() -> bodies(recorder()).stream().filter(body::equals).count() >= 2);
    assertThat(sqs.messagesLeft(queue)).isEqualTo(1);
    await("the problem reported").atMost(PATIENCE).until(
        () -> lambda.getEventSourceMapping(b -> b.uuid(mapping.uuid())).lastProcessingResult(),
        r -> r != null && r.startsWith("PROBLEM"));
    lambda.deleteEventSourceMapping(b -> b.uuid(mapping.uuid()));
  }

  @Test
  void filters_pass_only_matching_messages_and_the_rest_are_deleted() {
    String queue = tag("filter");
    String arn = sqs.createQueue(queue, 30);
    var keep = List.of("{\"kind\":\"keep\",\"n\":\"" + queue + "-1\"}", "{\"kind\":\"keep\",\"n\":\"" + queue + "-2\"}");
    var drop = List.of("{\"kind\":\"drop\",\"n\":\"" + queue + "-3\"}", "plain " + queue);
    keep.forEach(b -> sqs.send(queue, b));
    drop.forEach(b -> sqs.send(queue, b));
    var mapping = lambda.createEventSourceMapping(b -> b.functionName(recorder()).eventSourceArn(arn)
        .filterCriteria(FilterCriteria.builder().filters(Filter.builder()
            .pattern("{\"body\":{\"kind\":[\"keep\"]}}").build()).build()));
    await("the queue emptied").atMost(PATIENCE).until(() -> sqs.messagesLeft(queue) == 0);
    await("matching messages processed").atMost(PATIENCE).until(() -> bodies(recorder()).containsAll(keep));
    assertThat(bodies(recorder())).doesNotContainAnyElementsOf(drop);
    lambda.deleteEventSourceMapping(b -> b.uuid(mapping.uuid()));
  }

  @Test
  void a_disabled_mapping_does_not_poll_until_it_is_enabled() {
    String queue = tag("disabled");
    String arn = sqs.createQueue(queue, 30);
    var mapping = lambda.createEventSourceMapping(b -> b.functionName(recorder()).eventSourceArn(arn).enabled(false));
    awaitState(mapping.uuid(), "Disabled");
    String body = "{\"n\":\"" + queue + "\"}";
    sqs.send(queue, body);
    await("the message stays while disabled").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
        .until(() -> sqs.messagesLeft(queue) == 1);
    assertThat(bodies(recorder())).doesNotContain(body);

    var enabling = lambda.updateEventSourceMapping(b -> b.uuid(mapping.uuid()).enabled(true));
    assertThat(enabling.state()).isEqualTo("Enabling");
    awaitState(mapping.uuid(), "Enabled");
    await("processed once enabled").atMost(PATIENCE).until(() -> bodies(recorder()).contains(body));
    await("and deleted").atMost(PATIENCE).until(() -> sqs.messagesLeft(queue) == 0);
    lambda.deleteEventSourceMapping(b -> b.uuid(mapping.uuid()));
  }

  @Test
  void a_mapping_survives_a_server_restart() {
    String queue = tag("restart");
    String arn = sqs.createQueue(queue, 30);
    var mapping = lambda.createEventSourceMapping(b -> b.functionName(recorder()).eventSourceArn(arn).batchSize(3));
    awaitState(mapping.uuid(), "Enabled");

    server.stop();
    String body = "{\"n\":\"" + queue + "\"}";
    sqs.send(queue, body);
    server.restart();
    connectClients();

    await("processed after the restart").atMost(PATIENCE).until(() -> bodies(recorder()).contains(body));
    await("and deleted").atMost(PATIENCE).until(() -> sqs.messagesLeft(queue) == 0);
    var after = lambda.getEventSourceMapping(b -> b.uuid(mapping.uuid()));
    assertThat(after.state()).isEqualTo("Enabled");
    assertThat(after.batchSize()).isEqualTo(3);
    lambda.deleteEventSourceMapping(b -> b.uuid(mapping.uuid()));
  }
}
