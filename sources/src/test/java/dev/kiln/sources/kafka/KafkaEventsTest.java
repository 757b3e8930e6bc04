package dev.kiln.sources.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

class KafkaEventsTest {
  private static ConsumerRecord<byte[], byte[]> record(long offset, String key, String value) {
    var headers = new RecordHeaders(List.of(new RecordHeader("trace", new byte[] {104, 105, (byte) 0xff})));
    return new ConsumerRecord<>("clicks", 2, offset, 1_700_000_000_000L + offset, TimestampType.CREATE_TIME, -1, -1,
        key == null ? null : key.getBytes(StandardCharsets.UTF_8),
        value == null ? null : value.getBytes(StandardCharsets.UTF_8), headers, Optional.empty());
  }

  @Test
  void eventIsLambdasSelfManagedKafkaShape() {
    var event = KafkaEvents.JSON.readTree(KafkaEvents.event("b1:9092,b2:9092", "clicks", 2,
        List.of(record(7, "k", "{\"a\":1}"), record(8, null, null))));
    assertThat(event.path("eventSource").asString()).isEqualTo("SelfManagedKafka");
    assertThat(event.path("bootstrapServers").asString()).isEqualTo("b1:9092,b2:9092");
    var records = event.path("records").path("clicks-2");
    assertThat(records.size()).isEqualTo(2);
    var first = records.get(0);
    assertThat(first.path("topic").asString()).isEqualTo("clicks");
    assertThat(first.path("partition").asInt()).isEqualTo(2);
    assertThat(first.path("offset").asLong()).isEqualTo(7);
    assertThat(first.path("timestamp").asLong()).isEqualTo(1_700_000_000_007L);
    assertThat(first.path("timestampType").asString()).isEqualTo("CREATE_TIME");
    assertThat(new String(Base64.getDecoder().decode(first.path("key").asString()), StandardCharsets.UTF_8))
        .isEqualTo("k");
    assertThat(new String(Base64.getDecoder().decode(first.path("value").asString()), StandardCharsets.UTF_8))
        .isEqualTo("{\"a\":1}");
    assertThat(first.path("headers").get(0).path("trace").toString()).isEqualTo("[104,105,255]");
    var second = records.get(1);
    assertThat(second.has("key")).as("a null key is left out").isFalse();
    assertThat(second.has("value")).as("a tombstone has no value").isFalse();
  }

  @Test
  void filtersSeeTheValueDecoded() {
    assertThat(KafkaEvents.filterView(record(1, null, "{\"kind\":\"order\"}")).path("value").path("kind").asString())
        .isEqualTo("order");
    assertThat(KafkaEvents.filterView(record(1, null, "plain")).path("value").asString()).isEqualTo("plain");
  }
}
