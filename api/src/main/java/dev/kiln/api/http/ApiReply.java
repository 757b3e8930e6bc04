package dev.kiln.api.http;

import java.io.InputStream;
import java.util.Map;

/** What an operation answers: a status, response headers, and a JSON document, raw bytes, a stream or nothing. */
public record ApiReply(int status, Map<String, String> headers, Body body) {

  /** The closed set of response bodies an operation can produce. */
  public sealed interface Body {
    record None() implements Body {}

    record Json(Object document) implements Body {}

    record Bytes(String contentType, byte[] bytes) implements Body {}

    record Stream(String contentType, InputStream in) implements Body {}

    /** A body produced while it is sent, flushed as it goes (response streaming). */
    record Writer(String contentType, BodyWriter writer) implements Body {}
  }

  /** Writes a streamed body to the client as it is produced. */
  @FunctionalInterface
  public interface BodyWriter {
    void writeTo(java.io.OutputStream out) throws java.io.IOException;
  }

  public static ApiReply json(int status, Object document) {
    return new ApiReply(status, Map.of(), new Body.Json(document));
  }

  public static ApiReply ok(Object document) {
    return json(200, document);
  }

  public static ApiReply noContent() {
    return new ApiReply(204, Map.of(), new Body.None());
  }
}
