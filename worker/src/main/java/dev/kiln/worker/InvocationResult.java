package dev.kiln.worker;

/**
 * How an invocation ended, with what the Invoke API reports about it.
 *
 * @param payload the response body, or the error document for a function error (empty when streamed)
 * @param functionError null on success, else Lambda's X-Amz-Function-Error value ("Unhandled")
 * @param logTail the last 4 KB of the invocation's log with START/END/REPORT lines, or null if not asked
 * @param attempts how many environments ran the request (more than 1 only with KILN_RETRY_MAX_ATTEMPTS)
 */
public record InvocationResult(
    byte[] payload, String functionError, String logTail, String executedVersion, double durationMs,
    Double initDurationMs, int attempts) {

  public InvocationResult(byte[] payload, String functionError, String logTail, String executedVersion,
      double durationMs, Double initDurationMs) {
    this(payload, functionError, logTail, executedVersion, durationMs, initDurationMs, 1);
  }

  public boolean failed() {
    return functionError != null;
  }

  InvocationResult after(int attempts, String logTail) {
    return new InvocationResult(payload, functionError, logTail, executedVersion, durationMs, initDurationMs,
        attempts);
  }
}
