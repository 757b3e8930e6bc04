package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingRequest;
import software.amazon.awssdk.services.lambda.model.CreateEventSourceMappingResponse;
import software.amazon.awssdk.services.lambda.model.EndPointType;
import software.amazon.awssdk.services.lambda.model.EventSourcePosition;
import software.amazon.awssdk.services.lambda.model.Filter;
import software.amazon.awssdk.services.lambda.model.FilterCriteria;
import tools.jackson.databind.JsonNode;

/**
 * Event-source mappings of self-managed Kafka topics, against a real Kafka 4 broker: Lambda's event
 * shape, order within a partition, offsets committed only after success (read back from the
 * consumer group with an AdminClient), retries of a failing batch, throttles waited out, filters,
 * a chosen consumer group, and disabling.
 */
class KafkaEventSourceTest extends InvokeTestBase {
  /** Logs each record (value decoded); throws when a value contains $FAIL_ON. */
  private static final String RECORDER = """
      exports.handler = async (event) => {
        console.log('KAFKA-EVENT ' + JSON.stringify({ eventSource: event.eventSource,
          bootstrapServers: event.bootstrapServers, batches: Object.keys(event.records) }));
        for (const [batch, records] of Object.entries(event.records)) {
          for (const record of records) {
            const value = record.value === undefined ? null : Buffer.from(record.value, 'base64').toString();
            console.log('KAFKA-RECORD ' + JSON.stringify({ batch, value, record }));
            if (process.env.FAIL_ON && value && value.includes(process.env.FAIL_ON)) {
              throw new Error('refusing ' + value);
            }
          }
        }
        return { ok: true };
      };
      """;
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private KafkaBroker kafka;

  @Override
  protected List<String> serverArgs() {
    kafka = KafkaBroker.start();
    return List.of();
  }

  @AfterAll
  void stopKafka() {
    if (kafka != null) {
      kafka.close();
    }
  }

  private String recorder(String prefix, Map<String, String> environment) {
    return deploy(prefix, "nodejs22.x", "index.handler", Functions.node(RECORDER),
        b -> b.environment(e -> e.variables(environment)));
  }

  /** What the function logged about each record, in log order, with the request it came in. */
  private record Seen(String requestId, String batch, String value, JsonNode record) {
    long offset() {
      return record.path("offset").asLong();
    }

    int partition() {
      return record.path("partition").asInt();
    }
  }

  private List<Seen> seen(String function, String topic) {
    var seen = new ArrayList<Seen>();
    for (var event : logEvents(function, 0)) {
      var message = event.path("message").asString();
      int at = message.indexOf("KAFKA-RECORD {");
      if (at >= 0) {
        var doc = json(message.substring(at + "KAFKA-RECORD ".length()).strip());
        if (doc.path("record").path("topic").asString().equals(topic)) {
          seen.add(new Seen(event.path("requestId").asString(), doc.path("batch").asString(),
              doc.path("value").asString(), doc.path("record")));
        }
      }
    }
    return seen;
  }

  private CreateEventSourceMappingResponse map(String function, String topic,
      Consumer<CreateEventSourceMappingRequest.Builder> extra) {
    return lambda.createEventSourceMapping(b -> {
      b.functionName(function).topics(topic).startingPosition(EventSourcePosition.TRIM_HORIZON)
          .selfManagedEventSource(s -> s.endpoints(Map.of(EndPointType.KAFKA_BOOTSTRAP_SERVERS,
              List.of(kafka.bootstrapServers()))));
      extra.accept(b);
    });
  }

  private void awaitState(String uuid, String state) {
    await("mapping " + uuid + " " + state).atMost(PATIENCE).pollInterval(Duration.ofMillis(200))
        .until(() -> lambda.getEventSourceMapping(b -> b.uuid(uuid)).state(), state::equals);
  }

  private static String topic(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void records_reach_the_function_in_lambdas_shape_in_order_per_partition_and_are_committed() {
    String function = recorder("kafka-order", Map.of());
    String topic = topic("orders");
    kafka.createTopic(topic, 3);
    for (int seq = 0; seq < 10; seq++) {
      for (int p = 0; p < 3; p++) {
        kafka.send(topic, p, "k" + p, "{\"p\":" + p + ",\"seq\":" + seq + "}", Map.of("trace", "t" + seq));
      }
    }
    var created = cli.lambda("create-event-source-mapping", "--function-name", function, "--topics", topic,
        "--starting-position", "TRIM_HORIZON", "--batch-size", "4", "--self-managed-event-source",
        "{\"Endpoints\":{\"KAFKA_BOOTSTRAP_SERVERS\":[\"" + kafka.bootstrapServers() + "\"]}}").json();
    String uuid = created.path("UUID").asString();
    assertThat(created.path("State").asString()).isEqualTo("Creating");
    assertThat(created.path("Topics").get(0).asString()).isEqualTo(topic);
    assertThat(created.path("StartingPosition").asString()).isEqualTo("TRIM_HORIZON");
    assertThat(created.path("BatchSize").asInt()).isEqualTo(4);
    assertThat(created.path("SelfManagedEventSource").path("Endpoints").path("KAFKA_BOOTSTRAP_SERVERS").get(0)
        .asString()).isEqualTo(kafka.bootstrapServers());
    assertThat(created.path("SelfManagedKafkaEventSourceConfig").path("ConsumerGroupId").asString()).isEqualTo(uuid);
    assertThat(created.has("EventSourceArn")).isFalse();

    var all = await("30 records at the function").atMost(PATIENCE).pollInterval(Duration.ofMillis(300))
        .until(() -> seen(function, topic), s -> s.size() >= 30);
    assertThat(all).hasSize(30);
    for (int p = 0; p < 3; p++) {
      int partition = p;
      var ofPartition = all.stream().filter(s -> s.partition() == partition).toList();
      assertThat(ofPartition).extracting(Seen::offset).as("partition %d in order, once each", p)
          .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
      for (int seq = 0; seq < 10; seq++) {
        var seen = ofPartition.get(seq);
        assertThat(seen.value()).isEqualTo("{\"p\":" + p + ",\"seq\":" + seq + "}");
        assertThat(seen.batch()).isEqualTo(topic + "-" + p);
        var record = seen.record();
        assertThat(record.path("topic").asString()).isEqualTo(topic);
        assertThat(record.path("timestamp").asLong()).isPositive();
        assertThat(record.path("timestampType").asString()).isEqualTo("CREATE_TIME");
        assertThat(new String(Base64.getDecoder().decode(record.path("key").asString()), StandardCharsets.UTF_8))
            .isEqualTo("k" + p);
        var trace = record.path("headers").get(0).path("trace");
        var bytes = new byte[trace.size()];
        for (int i = 0; i < bytes.length; i++) {
          bytes[i] = (byte) trace.get(i).asInt();
        }
        assertThat(new String(bytes, StandardCharsets.UTF_8)).isEqualTo("t" + seq);
      }
    }
    // One partition per invocation, at most BatchSize records.
    var byRequest = new LinkedHashMap<String, List<Seen>>();
    all.forEach(s -> byRequest.computeIfAbsent(s.requestId(), k -> new ArrayList<>()).add(s));
    assertThat(byRequest.values()).allSatisfy(batch -> {
      assertThat(batch).hasSizeLessThanOrEqualTo(4);
      assertThat(batch).extracting(Seen::partition).containsOnly(batch.getFirst().partition());
    });
    var events = logEvents(function, 0).stream().map(e -> e.path("message").asString())
        .filter(m -> m.contains("KAFKA-EVENT {")).map(m -> json(m.substring(m.indexOf('{')))).toList();
    assertThat(events).allSatisfy(e -> {
      assertThat(e.path("eventSource").asString()).isEqualTo("SelfManagedKafka");
      assertThat(e.path("bootstrapServers").asString()).isEqualTo(kafka.bootstrapServers());
    });

    await("offsets committed to the end").atMost(PATIENCE)
        .until(() -> kafka.committedOffsets(uuid), offsets -> offsets.equals(Map.of(0, 10L, 1, 10L, 2, 10L)));
    awaitState(uuid, "Enabled");
    assertThat(lambda.getEventSourceMapping(b -> b.uuid(uuid)).lastProcessingResult()).isEqualTo("OK");
    lambda.deleteEventSourceMapping(b -> b.uuid(uuid));
  }

  @Test
  void a_failing_batch_is_retried_and_its_offset_is_not_committed_until_it_succeeds() {
    String function = recorder("kafka-failing", Map.of("FAIL_ON", "poison"));
    String topic = topic("failing");
    kafka.createTopic(topic, 1);
    for (var value : List.of("r0", "r1", "r2", "r3", "poison", "r5", "r6", "r7")) {
      kafka.send(topic, 0, null, value, Map.of());
    }
    var mapping = map(function, topic, b -> b.batchSize(1));
    String uuid = mapping.uuid();

    await("the poison record retried").atMost(PATIENCE).pollInterval(Duration.ofMillis(300))
        .until(() -> seen(function, topic).stream().filter(s -> s.value().equals("poison")).count() >= 2);
    await("everything before it committed").atMost(PATIENCE)
        .until(() -> kafka.committedOffsets(uuid), offsets -> offsets.equals(Map.of(0, 4L)));
    await("nothing past it committed or delivered").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
        .until(() -> kafka.committedOffsets(uuid).equals(Map.of(0, 4L))
            && seen(function, topic).stream().noneMatch(s -> s.value().equals("r5")));
    await("the problem reported").atMost(PATIENCE)
        .until(() -> lambda.getEventSourceMapping(b -> b.uuid(uuid)).lastProcessingResult(),
            r -> r != null && r.startsWith("PROBLEM: Function call failed"));

    lambda.updateFunctionConfiguration(b -> b.functionName(function)
        .environment(e -> e.variables(Map.of("FAIL_ON", "nothing-matches-this"))));
    awaitUpdated(function);
    await("the rest delivered and committed").atMost(PATIENCE)
        .until(() -> kafka.committedOffsets(uuid), offsets -> offsets.equals(Map.of(0, 8L)));
    var values = seen(function, topic).stream().map(Seen::value).toList();
    int lastPoison = values.lastIndexOf("poison");
    assertThat(values.subList(0, values.indexOf("poison"))).containsExactly("r0", "r1", "r2", "r3");
    assertThat(values.subList(lastPoison + 1, values.size())).containsExactly("r5", "r6", "r7");
    assertThat(values.subList(values.indexOf("poison"), lastPoison + 1)).containsOnly("poison");
    await("OK again").atMost(PATIENCE)
        .until(() -> lambda.getEventSourceMapping(b -> b.uuid(uuid)).lastProcessingResult(), "OK"::equals);
    lambda.deleteEventSourceMapping(b -> b.uuid(uuid));
  }

  @Test
  void throttled_invocations_wait_and_nothing_is_dropped() {
    String function = recorder("kafka-throttled", Map.of());
    lambda.putFunctionConcurrency(b -> b.functionName(function).reservedConcurrentExecutions(0));
    String topic = topic("throttled");
    kafka.createTopic(topic, 2);
    for (int i = 0; i < 4; i++) {
      kafka.send(topic, i % 2, null, "t" + i, Map.of());
    }
    long before = throttles();
    var mapping = map(function, topic, b -> b.batchSize(1));
    await("invocations throttled").atMost(PATIENCE).until(() -> throttles() >= before + 2);
    assertThat(kafka.committedOffsets(mapping.uuid())).isEmpty();
    assertThat(seen(function, topic)).isEmpty();

    lambda.deleteFunctionConcurrency(b -> b.functionName(function));
    await("all delivered once capacity returned").atMost(PATIENCE)
        .until(() -> kafka.committedOffsets(mapping.uuid()), offsets -> offsets.equals(Map.of(0, 2L, 1, 2L)));
    assertThat(seen(function, topic)).extracting(Seen::value).containsExactlyInAnyOrder("t0", "t1", "t2", "t3");
    lambda.deleteEventSourceMapping(b -> b.uuid(mapping.uuid()));
  }

  private long throttles() {
    var stats = http.send("GET", "/kiln/v1/stats", (byte[]) null);
    assertThat(stats.status()).isEqualTo(200);
    return stats.json().path("throttles").path("ReservedFunctionConcurrentInvocationLimitExceeded").asLong();
  }

  @Test
  void filters_commit_past_what_they_leave_out_in_the_chosen_consumer_group_and_disabling_stops_polling() {
    String function = recorder("kafka-filter", Map.of());
    String topic = topic("filtered");
    String group = "kiln-e2e-" + UUID.randomUUID();
    kafka.createTopic(topic, 1);
    for (var value : List.of("{\"kind\":\"keep\",\"n\":1}", "{\"kind\":\"drop\",\"n\":2}", "plain text",
        "{\"kind\":\"keep\",\"n\":4}")) {
      kafka.send(topic, 0, null, value, Map.of());
    }
    var mapping = map(function, topic, b -> b.batchSize(2)
        .selfManagedKafkaEventSourceConfig(c -> c.consumerGroupId(group))
        .filterCriteria(FilterCriteria.builder().filters(Filter.builder()
            .pattern("{\"value\":{\"kind\":[\"keep\"]}}").build()).build()));
    assertThat(mapping.selfManagedKafkaEventSourceConfig().consumerGroupId()).isEqualTo(group);
    await("committed past everything").atMost(PATIENCE)
        .until(() -> kafka.committedOffsets(group), offsets -> offsets.equals(Map.of(0, 4L)));
    assertThat(seen(function, topic)).extracting(Seen::value)
        .containsExactly("{\"kind\":\"keep\",\"n\":1}", "{\"kind\":\"keep\",\"n\":4}");

    lambda.updateEventSourceMapping(b -> b.uuid(mapping.uuid()).enabled(false));
    awaitState(mapping.uuid(), "Disabled");
    kafka.send(topic, 0, null, "{\"kind\":\"keep\",\"n\":5}", Map.of());
    await("nothing consumed while disabled").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
        .until(() -> kafka.committedOffsets(group).equals(Map.of(0, 4L)));
    lambda.updateEventSourceMapping(b -> b.uuid(mapping.uuid()).enabled(true));
    await("consumed once enabled").atMost(PATIENCE)
        .until(() -> kafka.committedOffsets(group), offsets -> offsets.equals(Map.of(0, 5L)));
    assertThat(seen(function, topic)).extracting(Seen::value).endsWith("{\"kind\":\"keep\",\"n\":5}");
    lambda.deleteEventSourceMapping(b -> b.uuid(mapping.uuid()));
  }

  @Test
  void kafka_mappings_are_checked_as_lambda_checks_them() {
    String function = recorder("kafka-errors", Map.of());
    String servers = "{\"Endpoints\":{\"KAFKA_BOOTSTRAP_SERVERS\":[\"" + kafka.bootstrapServers() + "\"]}}";
    cli.lambda("create-event-source-mapping", "--function-name", function, "--topics", "t",
        "--self-managed-event-source", servers).assertError("InvalidParameterValueException");
    cli.lambda("create-event-source-mapping", "--function-name", function, "--topics", "t", "--starting-position",
        "LATEST", "--self-managed-event-source", servers, "--function-response-types", "ReportBatchItemFailures")
        .assertError("InvalidParameterValueException");
    cli.lambda("create-event-source-mapping", "--function-name", function, "--topics", "t", "--starting-position",
        "LATEST", "--self-managed-event-source", "{\"Endpoints\":{\"KAFKA_BOOTSTRAP_SERVERS\":[\"no-port\"]}}")
        .assertError("InvalidParameterValueException");
    var first = cli.lambda("create-event-source-mapping", "--function-name", function, "--topics", "t",
        "--starting-position", "LATEST", "--self-managed-event-source", servers, "--no-enabled").json();
    var duplicate = cli.lambda("create-event-source-mapping", "--function-name", function, "--topics", "t",
        "--starting-position", "TRIM_HORIZON", "--self-managed-event-source", servers)
        .assertError("ResourceConflictException");
    assertThat(duplicate.stderr()).contains(first.path("UUID").asString());
    var counts = new HashMap<String, Integer>();
    for (var m : lambda.listEventSourceMappings(b -> b.functionName(function)).eventSourceMappings()) {
      counts.merge(m.topics().getFirst(), 1, Integer::sum);
    }
    assertThat(counts).isEqualTo(Map.of("t", 1));
    lambda.deleteEventSourceMapping(b -> b.uuid(first.path("UUID").asString()));
  }
}
