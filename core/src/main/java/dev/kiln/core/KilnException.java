package dev.kiln.core;

/**
 * A failure that reaches the client as a Lambda error: the code fixes the status and error type,
 * the message is written for the user.
 */
public final class KilnException extends RuntimeException {
  private final ErrorCode code;
  private final String reason;
  private final Integer retryAfterSeconds;

  public KilnException(ErrorCode code, String message) {
    this(code, message, null, null);
  }

  private KilnException(ErrorCode code, String message, String reason, Integer retryAfterSeconds) {
    super(message, null, false, false);
    this.code = code;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** A 429 TooManyRequestsException with Lambda's Reason and a Retry-After in seconds. */
  public static KilnException throttled(String message, String reason, int retryAfterSeconds) {
    return new KilnException(ErrorCode.TooManyRequestsException, message, reason, retryAfterSeconds);
  }

  public ErrorCode code() {
    return code;
  }

  /** Lambda's Reason for a throttle, else null. */
  public String reason() {
    return reason;
  }

  /** Seconds the caller should wait before retrying a throttled call, else null. */
  public Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }

  /**
   * Whether an invoke that failed this way can simply be tried again later with nothing spent: a
   * throttle, or a function still being created or updated (ResourceConflictException). Pollers and
   * batch jobs wait these out instead of counting them as failures.
   */
  public boolean passesWithTime() {
    return code == ErrorCode.TooManyRequestsException || code == ErrorCode.ResourceConflictException;
  }

  public static KilnException notFound(String message) {
    return new KilnException(ErrorCode.ResourceNotFoundException, message);
  }

  public static KilnException invalid(String message) {
    return new KilnException(ErrorCode.InvalidParameterValueException, message);
  }

  public static KilnException conflict(String message) {
    return new KilnException(ErrorCode.ResourceConflictException, message);
  }

  public static KilnException precondition(String message) {
    return new KilnException(ErrorCode.PreconditionFailedException, message);
  }
}
