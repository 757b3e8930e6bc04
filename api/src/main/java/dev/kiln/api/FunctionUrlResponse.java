package dev.kiln.api;

import dev.kiln.api.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The HTTP response a function URL sends for a function's result, read as Lambda reads it: an
 * object with a {@code statusCode} is a response description (status, headers, cookies, body,
 * isBase64Encoded); any other value is the body of a 200 application/json response, a JSON string
 * being sent as its text.
 *
 * @param headers response headers by name as the function wrote them (one value each)
 * @param cookies each becomes one Set-Cookie header (a Set-Cookie the function put among its
 *     headers is kept here too)
 */
record FunctionUrlResponse(int status, Map<String, String> headers, List<String> cookies, byte[] body) {
  static final String JSON = "application/json";
  /** Headers the server computes for the connection; a function's values for them are dropped. */
  private static final Set<String> CONNECTION_HEADERS =
      Set.of("content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "date");

  /** Thrown when a result claims to describe a response but cannot be one: Lambda answers 502. */
  static final class Malformed extends Exception {
    Malformed(String message) {
      super(message, null, false, false);
    }
  }

  static FunctionUrlResponse of(byte[] payload) throws Malformed {
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(payload);
    } catch (JacksonException e) {
      // Not JSON (a streaming handler behind a buffered URL): the bytes are the body.
      return new FunctionUrlResponse(200, Map.of("Content-Type", JSON), List.of(), payload);
    }
    if (node == null || node.isMissingNode()) {
      return new FunctionUrlResponse(200, Map.of("Content-Type", JSON), List.of(), new byte[0]);
    }
    if (node.isObject() && node.has("statusCode")) {
      return described(node, JSON);
    }
    var body = node.isString() ? node.asString().getBytes(StandardCharsets.UTF_8) : Json.write(node);
    return new FunctionUrlResponse(200, Map.of("Content-Type", JSON), List.of(), body);
  }

  /** A 200 response of the given type (a streamed body's); Malformed when the type cannot be sent. */
  static FunctionUrlResponse plain(String contentType, byte[] body) throws Malformed {
    var type = contentType == null || contentType.isBlank() ? "application/octet-stream"
        : sendable("Content-Type", contentType);
    return new FunctionUrlResponse(200, Map.of("Content-Type", type), List.of(), body);
  }

  /** Whether the status allows content: a 204, 205 or 304 is sent without the body the function gave. */
  boolean sendsBody() {
    return !ResponseHeadSyntax.forbidsBody(status);
  }

  /**
   * The JSON prelude a streaming function writes ahead of its body (through
   * awslambda.HttpResponseStream.from): statusCode (200 when left out), headers and cookies.
   */
  static FunctionUrlResponse prelude(byte[] json) throws Malformed {
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(json);
    } catch (JacksonException e) {
      throw new Malformed("the response prelude is not JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new Malformed("the response prelude must be a JSON object");
    }
    return described(node, "application/octet-stream");
  }

  private static FunctionUrlResponse described(JsonNode node, String defaultContentType) throws Malformed {
    int status = node.has("statusCode") ? status(node.get("statusCode")) : 200;
    var headers = new LinkedHashMap<String, String>();
    var cookies = new ArrayList<String>();
    var headerNode = node.get("headers");
    if (headerNode != null && headerNode.isObject()) {
      for (var entry : headerNode.properties()) {
        if (!ResponseHeadSyntax.isToken(entry.getKey())) {
          throw new Malformed("the header name " + quoted(entry.getKey()) + " is not an HTTP token");
        }
        var name = entry.getKey().toLowerCase(Locale.ROOT);
        var value = headerValue(entry.getValue());
        if (value == null || CONNECTION_HEADERS.contains(name)) {
          continue;
        }
        value = sendable(entry.getKey(), value);
        if (name.equals("set-cookie")) {
          cookies.add(value);
        } else {
          headers.put(entry.getKey(), value);
        }
      }
    }
    if (headers.keySet().stream().noneMatch(name -> name.equalsIgnoreCase("content-type"))) {
      headers.put("Content-Type", defaultContentType);
    }
    var cookieNode = node.get("cookies");
    if (cookieNode != null && cookieNode.isArray()) {
      for (var cookie : cookieNode) {
        if (cookie.isString()) {
          cookies.add(sendable("cookie", cookie.asString()));
        }
      }
    }
    return new FunctionUrlResponse(status, headers, cookies, body(node));
  }

  private static int status(JsonNode statusCode) throws Malformed {
    int status;
    if (statusCode.isIntegralNumber() && statusCode.canConvertToInt()) {
      status = statusCode.intValue();
    } else if (statusCode.isString()) {
      try {
        status = Integer.parseInt(statusCode.asString().strip());
      } catch (NumberFormatException e) {
        throw new Malformed("statusCode '" + statusCode.asString() + "' is not a number");
      }
    } else {
      throw new Malformed("statusCode must be a number, not " + statusCode.getNodeType());
    }
    if (!ResponseHeadSyntax.isFinalStatus(status)) {
      throw new Malformed("statusCode " + status + " is not a final HTTP status (200-599)");
    }
    return status;
  }

  /** The value as it will be sent; Malformed when the function gave one no header line can carry. */
  private static String sendable(String what, String value) throws Malformed {
    var sendable = ResponseHeadSyntax.fieldValue(value);
    if (sendable == null) {
      throw new Malformed("the " + what + " value " + quoted(value)
          + " holds a control or non-ASCII character no header can carry");
    }
    return sendable;
  }

  /** The function's text as a JSON string, so that nothing it holds can break the log line it goes to. */
  private static String quoted(String text) {
    return Json.MAPPER.writeValueAsString(text.length() > 200 ? text.substring(0, 200) + "..." : text);
  }

  /** Header values as text; a list of values is joined with commas; objects mean nothing here. */
  private static String headerValue(JsonNode value) {
    if (value.isString()) {
      return value.asString();
    }
    if (value.isNumber() || value.isBoolean()) {
      return value.asString();
    }
    if (value.isArray()) {
      var parts = new ArrayList<String>();
      value.forEach(v -> parts.add(v.asString()));
      return String.join(",", parts);
    }
    return null;
  }

  private static byte[] body(JsonNode node) throws Malformed {
    var body = node.get("body");
    if (body == null || body.isNull()) {
      return new byte[0];
    }
    if (!body.isString()) {
      return Json.write(body);
    }
    var base64 = node.get("isBase64Encoded");
    if (base64 != null && base64.asBoolean(false)) {
      try {
        // Line breaks are tolerated (Python's base64.encodebytes writes them); nothing else is.
        return Base64.getDecoder().decode(body.asString().replaceAll("\\s", ""));
      } catch (IllegalArgumentException e) {
        throw new Malformed("isBase64Encoded is true but the body is not base64");
      }
    }
    return body.asString().getBytes(StandardCharsets.UTF_8);
  }
}
