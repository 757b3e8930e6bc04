package dev.kiln.sources.sqs;

import java.util.Base64;
import java.util.List;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** Lambda's SQS event: {@code {"Records":[...]}} with one record per message, as Lambda writes it. */
final class SqsEvents {
  static final JsonMapper JSON = JsonMapper.builder().build();

  private SqsEvents() {}

  static byte[] event(SqsEndpoints.Queue queue, List<Message> messages) {
    var event = JSON.createObjectNode();
    var records = event.putArray("Records");
    for (var message : messages) {
      records.add(record(queue, message));
    }
    return JSON.writeValueAsBytes(event);
  }

  static ObjectNode record(SqsEndpoints.Queue queue, Message message) {
    var record = JSON.createObjectNode();
    record.put("messageId", message.messageId());
    record.put("receiptHandle", message.receiptHandle());
    record.put("body", message.body());
    var attributes = record.putObject("attributes");
    message.attributesAsStrings().forEach(attributes::put);
    var messageAttributes = record.putObject("messageAttributes");
    message.messageAttributes().forEach((name, value) -> messageAttributes.set(name, attribute(value)));
    record.put("md5OfBody", message.md5OfBody());
    if (message.md5OfMessageAttributes() != null) {
      record.put("md5OfMessageAttributes", message.md5OfMessageAttributes());
    }
    record.put("eventSource", "aws:sqs");
    record.put("eventSourceARN", queue.arn());
    record.put("awsRegion", queue.region());
    return record;
  }

  /**
   * The record as filter patterns see it: the same members, with a body that is JSON parsed, so a
   * pattern can reach into it ({@code {"body":{"kind":["order"]}}}); other bodies stay strings.
   */
  static JsonNode filterView(SqsEndpoints.Queue queue, Message message) {
    var record = record(queue, message);
    record.set("body", parsedOrText(message.body()));
    return record;
  }

  static JsonNode parsedOrText(String text) {
    if (text != null) {
      try {
        var parsed = JSON.readTree(text);
        if (parsed != null && (parsed.isObject() || parsed.isArray())) {
          return parsed;
        }
      } catch (JacksonException e) {
        // Not JSON: filters see the text itself.
      }
    }
    return JSON.getNodeFactory().stringNode(text);
  }

  private static ObjectNode attribute(MessageAttributeValue value) {
    var node = JSON.createObjectNode();
    if (value.stringValue() != null) {
      node.put("stringValue", value.stringValue());
    }
    if (value.binaryValue() != null) {
      node.put("binaryValue", base64(value.binaryValue()));
    }
    ArrayNode strings = node.putArray("stringListValues");
    value.stringListValues().forEach(strings::add);
    ArrayNode binaries = node.putArray("binaryListValues");
    value.binaryListValues().forEach(b -> binaries.add(base64(b)));
    node.put("dataType", value.dataType());
    return node;
  }

  private static String base64(SdkBytes bytes) {
    return Base64.getEncoder().encodeToString(bytes.asByteArray());
  }
}
