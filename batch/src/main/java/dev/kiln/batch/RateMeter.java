package dev.kiln.batch;

/**
 * Items settled per second over the last few seconds: what the progress display shows as the
 * rate. A ring of one-second buckets; older buckets are cleared as time moves past them.
 */
final class RateMeter {
  private static final int WINDOW_SECONDS = 10;

  private final long[] counts = new long[WINDOW_SECONDS];
  private final long[] seconds = new long[WINDOW_SECONDS];
  private final long startedNanos;

  RateMeter(long nowNanos) {
    this.startedNanos = nowNanos;
  }

  synchronized void add(long items, long nowNanos) {
    long second = (nowNanos - startedNanos) / 1_000_000_000L;
    int slot = (int) (second % WINDOW_SECONDS);
    if (seconds[slot] != second) {
      seconds[slot] = second;
      counts[slot] = 0;
    }
    counts[slot] += items;
  }

  /** Over the window, or over the time since the start when that is shorter (but at least a second). */
  synchronized double perSecond(long nowNanos) {
    long elapsedNanos = nowNanos - startedNanos;
    long second = elapsedNanos / 1_000_000_000L;
    long total = 0;
    for (int i = 0; i < WINDOW_SECONDS; i++) {
      if (second - seconds[i] < WINDOW_SECONDS && seconds[i] <= second) {
        total += counts[i];
      }
    }
    double spanSeconds = Math.max(1.0, Math.min(WINDOW_SECONDS, elapsedNanos / 1e9));
    return total / spanSeconds;
  }
}
