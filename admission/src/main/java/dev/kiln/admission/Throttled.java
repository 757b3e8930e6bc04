package dev.kiln.admission;

/** Admission said "not now": why, and when to try again. */
public final class Throttled extends RuntimeException {
  private final ThrottleReason reason;
  private final int retryAfterSeconds;

  public Throttled(ThrottleReason reason, int retryAfterSeconds, String message) {
    super(message, null, false, false);
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public ThrottleReason reason() {
    return reason;
  }

  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
