package dev.kiln.core.schedules;

import java.time.Instant;

/**
 * What happened the last time a schedule tried to run its target.
 *
 * @param scheduledTime the occurrence this run was for
 * @param attemptedAt when Kiln handed it to the function
 * @param requestId the invocation's request id when it was accepted, else null
 * @param attempt 1 for the first try of this occurrence, 2 for its first retry, ...
 * @param catchUp whether this was the one run made up for occurrences missed while Kiln was down
 * @param message why it failed, else null
 */
public record LastRun(Instant scheduledTime, Instant attemptedAt, Status status, String requestId, int attempt,
    boolean catchUp, String message) {

  public enum Status {
    /** The asynchronous invocation was accepted. */
    INVOKED,
    /** It was not accepted; the occurrence is retried until the next one is due (24 hours at most). */
    RETRYING,
    /** It was not accepted and Kiln gave up on this occurrence. */
    FAILED
  }
}
