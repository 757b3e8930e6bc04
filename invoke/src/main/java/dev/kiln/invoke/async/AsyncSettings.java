package dev.kiln.invoke.async;

import java.time.Duration;

/**
 * How the asynchronous queue paces itself.
 *
 * @param retryBase wait after the first failed attempt; the n-th retry waits n times this (Lambda:
 *     one minute, then two)
 * @param throttleDelay how long a throttled event that found no waiting place in memory (see
 *     {@link CapacityWaits}) stays in the store before it is tried again
 * @param capacityRecheck how often a waiting throttled event tries again when no invocation on
 *     this node ends sooner
 * @param pollInterval how often the store is asked for due events when nothing wakes the dispatcher
 *     sooner (another node's events, leases that ran out)
 * @param maxInFlight events claimed and not yet settled at once, so a backlog does not flood admission
 * @param lease how long a claim holds an event: longer than the longest function timeout, so an
 *     event is only delivered twice when its dispatcher died
 */
public record AsyncSettings(Duration retryBase, Duration throttleDelay, Duration capacityRecheck,
    Duration pollInterval, int maxInFlight, Duration lease) {

  public AsyncSettings {
    if (retryBase.isNegative()) {
      throw new IllegalArgumentException("--async-retry-base must not be negative: " + retryBase);
    }
    if (throttleDelay.isNegative() || capacityRecheck.toMillis() < 1
        || pollInterval.toMillis() < 1 || maxInFlight < 2 || lease.compareTo(Duration.ofMinutes(16)) < 0) {
      throw new IllegalArgumentException("invalid asynchronous queue settings: throttleDelay " + throttleDelay
          + ", capacityRecheck " + capacityRecheck + ", pollInterval " + pollInterval + ", maxInFlight " + maxInFlight
          + ", lease " + lease + " (at least 16 minutes: longer than any function timeout)");
    }
  }

  /** Lambda's pacing, with the retry base given (one minute on Lambda). */
  public static AsyncSettings withRetryBase(Duration retryBase) {
    return new AsyncSettings(retryBase, Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofSeconds(1), 64,
        Duration.ofMinutes(20));
  }
}
