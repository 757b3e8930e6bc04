package dev.kiln.worker.runtimeapi;

import java.nio.charset.StandardCharsets;

/** The Runtime API's answer to a POST from the runtime. */
public record RuntimeReply(int status, String body) {
  public static final RuntimeReply ACCEPTED = new RuntimeReply(202, "{\"status\":\"OK\"}");

  public static RuntimeReply error(int status, String errorType, String message) {
    return new RuntimeReply(status, "{\"errorMessage\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"")
        + "\",\"errorType\":\"" + errorType + "\"}");
  }

  byte[] bytes() {
    return body.getBytes(StandardCharsets.UTF_8);
  }
}
