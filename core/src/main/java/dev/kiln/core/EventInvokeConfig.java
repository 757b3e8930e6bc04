package dev.kiln.core;

import java.time.Duration;
import java.time.Instant;

/**
 * How asynchronous invocations of one qualifier of a function are handled (Lambda's
 * FunctionEventInvokeConfig). A null limit is one the client did not set: Lambda's default applies
 * and the API leaves the member out.
 *
 * @param qualifier {@code $LATEST} (also for the unqualified function), a version number or an alias
 * @param maximumRetryAttempts retries after a function error, 0 to 2
 * @param maximumEventAgeSeconds how long an event may wait in the queue, 60 to 21600 seconds
 * @param onSuccess ARN that gets the invocation record of a success, or null
 * @param onFailure ARN that gets the invocation record of a discarded event, or null
 */
public record EventInvokeConfig(
    String qualifier,
    Integer maximumRetryAttempts,
    Integer maximumEventAgeSeconds,
    String onSuccess,
    String onFailure,
    Instant lastModified) {

  public static final int DEFAULT_RETRY_ATTEMPTS = 2;
  public static final int DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 21_600;
  public static final int MIN_MAXIMUM_EVENT_AGE_SECONDS = 60;

  public EventInvokeConfig {
    onSuccess = onSuccess == null || onSuccess.isEmpty() ? null : onSuccess;
    onFailure = onFailure == null || onFailure.isEmpty() ? null : onFailure;
  }

  /** What governs a qualifier that has no configuration of its own. */
  public static EventInvokeConfig defaults(String qualifier) {
    return new EventInvokeConfig(qualifier, null, null, null, null, null);
  }

  public int retryAttempts() {
    return maximumRetryAttempts == null ? DEFAULT_RETRY_ATTEMPTS : maximumRetryAttempts;
  }

  public Duration maximumEventAge() {
    return Duration.ofSeconds(maximumEventAgeSeconds == null ? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS : maximumEventAgeSeconds);
  }
}
