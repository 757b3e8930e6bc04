package dev.kiln.invoke.async;

import dev.kiln.worker.InvocationResult;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The document Lambda sends to an OnSuccess or OnFailure destination: what was asked
 * (requestPayload), why it is being sent (condition), and how the last attempt ended
 * (responseContext, responsePayload), absent when the function never ran.
 */
final class InvocationRecord {
  static final JsonMapper JSON = JsonMapper.builder().build();
  /** Always with milliseconds, as Lambda writes it (Instant.toString drops a zero fraction). */
  private static final java.time.format.DateTimeFormatter TIMESTAMP =
      java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

  /** Why an event left the queue, in Lambda's words. */
  enum Condition {
    Success,
    RetriesExhausted,
    EventAgeExceeded
  }

  private InvocationRecord() {}

  /**
   * @param functionArn the ARN the event was sent to, always qualified ($LATEST when it was not)
   * @param lastAttempt the last attempt's result, or null when the function never ran (or the
   *     event expired while waiting for a retry)
   */
  static byte[] of(Instant timestamp, String requestId, String functionArn, Condition condition, int invokeCount,
      byte[] requestPayload, InvocationResult lastAttempt) {
    var requestContext = new LinkedHashMap<String, Object>();
    requestContext.put("requestId", requestId);
    requestContext.put("functionArn", functionArn);
    requestContext.put("condition", condition.name());
    requestContext.put("approximateInvokeCount", invokeCount);
    var doc = new LinkedHashMap<String, Object>();
    doc.put("version", "1.0");
    doc.put("timestamp", TIMESTAMP.format(timestamp));
    doc.put("requestContext", requestContext);
    doc.put("requestPayload", json(requestPayload));
    if (lastAttempt != null) {
      var responseContext = new LinkedHashMap<String, Object>();
      // Function errors too are a 200 of the Invoke API, told apart by functionError.
      responseContext.put("statusCode", 200);
      responseContext.put("executedVersion", lastAttempt.executedVersion());
      if (lastAttempt.functionError() != null) {
        responseContext.put("functionError", lastAttempt.functionError());
      }
      doc.put("responseContext", responseContext);
      doc.put("responsePayload", json(lastAttempt.payload()));
    }
    return JSON.writeValueAsBytes(doc);
  }

  /** The errorMessage of a runtime's error document (or the document itself), at most 1 KB. */
  static String errorMessage(InvocationResult result) {
    String message;
    try {
      message = JSON.readTree(result.payload()).path("errorMessage").asString("");
    } catch (JacksonException e) {
      message = "";
    }
    if (message.isEmpty()) {
      message = new String(result.payload(), java.nio.charset.StandardCharsets.UTF_8);
    }
    return message.length() > 1024 ? message.substring(0, 1024) : message;
  }

  /** A payload as JSON when it is JSON (it normally is), else as a string. */
  private static Object json(byte[] payload) {
    if (payload == null || payload.length == 0) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(payload);
      return node == null || node.isMissingNode() ? null : node;
    } catch (JacksonException e) {
      return new String(payload, java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  static Map<String, String> deadLetterAttributes(String requestId, InvocationResult lastAttempt, String reason) {
    var attributes = new LinkedHashMap<String, String>();
    attributes.put("RequestID", requestId);
    attributes.put("ErrorCode", lastAttempt == null ? "429" : "200");
    attributes.put("ErrorMessage", lastAttempt == null ? reason : errorMessage(lastAttempt));
    return attributes;
  }
}
