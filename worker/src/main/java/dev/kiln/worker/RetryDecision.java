package dev.kiln.worker;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** When a transactional attempt (KILN_RETRY_MAX_ATTEMPTS) counts as a success, and how to say why it did not. */
final class RetryDecision {
  private static final Pattern ERROR_TYPE = Pattern.compile("\"errorType\"\\s*:\\s*\"([^\"\\\\]{1,200})\"");

  private RetryDecision() {}

  /** No function error, and the result passes the function's check when it has one. */
  static boolean succeeded(InvocationResult result, ResultCheck check) {
    return !result.failed() && (check == null || check.accepts(result.payload()));
  }

  /** Why an attempt that did not succeed failed, for the next attempt's KILN RETRY log line. */
  static String failure(InvocationResult result) {
    if (!result.failed()) {
      return "returned a result that does not match KILN_RETRY_SUCCESS";
    }
    var matcher = ERROR_TYPE.matcher(new String(result.payload(), StandardCharsets.UTF_8));
    return "failed: " + (matcher.find() ? matcher.group(1) : result.functionError());
  }
}
