package dev.kiln.admission;

/**
 * A token bucket: at most {@code capacity} tokens, refilled continuously at {@code perSecond}. Used
 * for Lambda's scaling rate: each token is one new execution environment.
 */
public final class TokenBucket {
  private final double capacity;
  private final double perNano;
  private double tokens;
  private long lastNanos;

  public TokenBucket(int capacity, double perSecond, long nowNanos) {
    this.capacity = capacity;
    this.perNano = perSecond / 1e9;
    this.tokens = capacity;
    this.lastNanos = nowNanos;
  }

  /** Takes one token if there is one. */
  public synchronized boolean tryTake(long nowNanos) {
    refill(nowNanos);
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    return true;
  }

  /**
   * Takes one token only if at least {@code keepShare} of the capacity is left afterwards: for work
   * nobody waits for, which must not drain what callers will need.
   */
  public synchronized boolean tryTakeSpare(double keepShare, long nowNanos) {
    refill(nowNanos);
    if (tokens - 1 < capacity * keepShare) {
      return false;
    }
    tokens -= 1;
    return true;
  }

  /** Returns a token taken for something that then did not happen. */
  public synchronized void giveBack() {
    tokens = Math.min(capacity, tokens + 1);
  }

  /** Whole seconds until the next token, at least 1 (Retry-After carries whole seconds). */
  public synchronized int secondsUntilToken(long nowNanos) {
    refill(nowNanos);
    return (int) Math.max(1, Math.ceil((1 - tokens) / (perNano * 1e9)));
  }

  private void refill(long nowNanos) {
    long elapsed = nowNanos - lastNanos;
    if (elapsed > 0) {
      tokens = Math.min(capacity, tokens + elapsed * perNano);
      lastNanos = nowNanos;
    }
  }
}
