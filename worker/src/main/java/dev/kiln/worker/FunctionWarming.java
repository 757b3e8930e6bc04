package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;
import dev.kiln.warming.InvocationHistory;
import java.util.concurrent.atomic.LongAdder;

/**
 * The warming state of one function version: the history its {@link dev.kiln.warming.WarmingPolicy}
 * learns from, the pre-warm it asked for, and what pre-warms and hints achieved. Shared by the
 * configurations of a version, so an update does not make Kiln forget how the function is called.
 */
final class FunctionWarming {
  /** Marks no pending pre-warm. */
  private static final long NONE = Long.MIN_VALUE;

  final InvocationHistory history;
  /** The version last invoked, started again by a pre-warm. */
  volatile FunctionVersion version;
  private long prewarmAtMillis = NONE;
  private long prewarmUntilMillis;
  final LongAdder prewarmsStarted = new LongAdder();
  final LongAdder prewarmsUsed = new LongAdder();
  final LongAdder prewarmsWasted = new LongAdder();
  /** Pre-warms left out because the node had no memory or scaling headroom to spare. */
  final LongAdder prewarmsSkipped = new LongAdder();
  final LongAdder hintedStarted = new LongAdder();
  final LongAdder hintedUsed = new LongAdder();
  final LongAdder hintedWasted = new LongAdder();

  FunctionWarming(InvocationHistory history) {
    this.history = history;
  }

  /** Asks for an environment ready from {@code atMillis} to {@code untilMillis}; replaces any earlier request. */
  synchronized void schedulePrewarm(long atMillis, long untilMillis) {
    prewarmAtMillis = atMillis;
    prewarmUntilMillis = untilMillis;
  }

  /** Takes the pending pre-warm if it is due: returns its end, or -1 when none is due. */
  synchronized long takeDuePrewarm(long nowMillis) {
    if (prewarmAtMillis == NONE || prewarmAtMillis > nowMillis) {
      return -1;
    }
    prewarmAtMillis = NONE;
    return prewarmUntilMillis > nowMillis ? prewarmUntilMillis : -1;
  }

  /** An environment readied ahead of demand served its first invocation. */
  void used(Environment.Readied origin) {
    (origin == Environment.Readied.BY_POLICY ? prewarmsUsed : hintedUsed).increment();
  }

  /** An environment readied ahead of demand was retired without serving. */
  void wasted(Environment.Readied origin) {
    (origin == Environment.Readied.BY_POLICY ? prewarmsWasted : hintedWasted).increment();
  }
}
