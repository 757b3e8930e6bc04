package dev.kiln.sources.kafka;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Lambda's self-managed Kafka event: the records of a batch under {@code "topic-partition"}, key and
 * value base64-encoded, each header as {@code {"name": [byte, byte, ...]}} with bytes 0 to 255 (which
 * both Java's byte[] and Python's bytes() read).
 */
final class KafkaEvents {
  static final JsonMapper JSON = JsonMapper.builder().build();

  private KafkaEvents() {}

  static byte[] event(String bootstrapServers, String topic, int partition, List<ConsumerRecord<byte[], byte[]>> batch) {
    var event = JSON.createObjectNode();
    event.put("eventSource", "SelfManagedKafka");
    event.put("bootstrapServers", bootstrapServers);
    var records = event.putObject("records").putArray(topic + "-" + partition);
    for (var record : batch) {
      records.add(record(record));
    }
    return JSON.writeValueAsBytes(event);
  }

  static ObjectNode record(ConsumerRecord<byte[], byte[]> record) {
    var node = JSON.createObjectNode();
    node.put("topic", record.topic());
    node.put("partition", record.partition());
    node.put("offset", record.offset());
    node.put("timestamp", record.timestamp());
    node.put("timestampType", record.timestampType().name());
    if (record.key() != null) {
      node.put("key", Base64.getEncoder().encodeToString(record.key()));
    }
    if (record.value() != null) {
      node.put("value", Base64.getEncoder().encodeToString(record.value()));
    }
    var headers = node.putArray("headers");
    for (Header header : record.headers()) {
      var bytes = headers.addObject().putArray(header.key());
      if (header.value() != null) {
        for (byte b : header.value()) {
          bytes.add(b & 0xFF);
        }
      }
    }
    return node;
  }

  /**
   * The record as filter patterns see it: the event's members with the value decoded, parsed when
   * it is JSON ({@code {"value":{"kind":["order"]}}}) and as text otherwise.
   */
  static JsonNode filterView(ConsumerRecord<byte[], byte[]> record) {
    var node = record(record);
    if (record.value() != null) {
      node.set("value", parsedOrText(new String(record.value(), StandardCharsets.UTF_8)));
    }
    return node;
  }

  private static JsonNode parsedOrText(String text) {
    try {
      var parsed = JSON.readTree(text);
      if (parsed != null && (parsed.isObject() || parsed.isArray())) {
        return parsed;
      }
    } catch (JacksonException e) {
      // Not JSON: filters see the text itself.
    }
    return JSON.getNodeFactory().stringNode(text);
  }
}
