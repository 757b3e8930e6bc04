package dev.kiln.warming;

import java.util.Arrays;

/**
 * Recognizes a steady beat in the times a function goes from idle to busy, as timers and cron-like
 * callers produce. The last few start times are kept in a ring; they form a beat when every gap is
 * close to one, two or three times a common period (an occasional missed tick does not break it)
 * and most gaps are exactly one period.
 *
 * <p>Not thread-safe: {@link InvocationHistory} guards it. Recording costs a store; the analysis
 * runs only when asked and is cached until the next start.
 */
public final class PeriodDetector {
  /** Gaps may be off by this much at least: timer jitter and scheduling delays are seconds, not minutes. */
  static final long ABSOLUTE_TOLERANCE_MILLIS = 5_000;
  /** ... or by this share of the period, whichever is larger. */
  static final double RELATIVE_TOLERANCE = 0.02;
  /**
   * Shorter beats are not looked for: any keep-alive bridges them, and at a few seconds the
   * tolerance above would let random arrivals pass for a beat.
   */
  static final long SHORTEST_PERIOD_MILLIS = 60_000;
  private static final int LONGEST_MISS = 3;

  private final long[] starts;
  private final long[] gaps;
  private final long[] sorted;
  private final int minGaps;
  private int size;
  private int next;
  private boolean analysed;
  private long period;
  private long spread;

  /**
   * @param memory how many start times are kept
   * @param minGaps how many consecutive gaps must agree before a beat is believed
   */
  public PeriodDetector(int memory, int minGaps) {
    if (minGaps < 2 || memory < minGaps + 1) {
      throw new IllegalArgumentException("need at least 2 gaps and room for them: memory " + memory + ", gaps "
          + minGaps);
    }
    this.starts = new long[memory];
    this.gaps = new long[memory - 1];
    this.sorted = new long[memory - 1];
    this.minGaps = minGaps;
  }

  public void record(long startMillis) {
    starts[next] = startMillis;
    next = (next + 1) % starts.length;
    size = Math.min(size + 1, starts.length);
    analysed = false;
  }

  /** The most recent start, or {@link Long#MIN_VALUE} before any. */
  public long lastStart() {
    return size == 0 ? Long.MIN_VALUE : starts[(next - 1 + starts.length) % starts.length];
  }

  /** The beat's period in milliseconds, or 0 when the recorded starts show none. */
  public long period() {
    analyse();
    return period;
  }

  /** The largest distance of a recorded gap from its whole number of periods (0 without a beat). */
  public long spread() {
    analyse();
    return spread;
  }

  private void analyse() {
    if (analysed) {
      return;
    }
    analysed = true;
    period = 0;
    spread = 0;
    int gapCount = size - 1;
    if (gapCount < minGaps) {
      return;
    }
    int oldest = (next - size + starts.length) % starts.length;
    for (int i = 0; i < gapCount; i++) {
      gaps[i] = starts[(oldest + i + 1) % starts.length] - starts[(oldest + i) % starts.length];
    }
    System.arraycopy(gaps, 0, sorted, 0, gapCount);
    Arrays.sort(sorted, 0, gapCount);
    long median = sorted[gapCount / 2];
    if (median < SHORTEST_PERIOD_MILLIS - ABSOLUTE_TOLERANCE_MILLIS) {
      return;
    }
    long tolerance = Math.max(ABSOLUTE_TOLERANCE_MILLIS, (long) (median * RELATIVE_TOLERANCE));
    long beats = 0;
    long covered = 0;
    int single = 0;
    for (int i = 0; i < gapCount; i++) {
      long multiple = Math.round((double) gaps[i] / median);
      if (multiple < 1 || multiple > LONGEST_MISS || Math.abs(gaps[i] - multiple * median) > tolerance) {
        return;
      }
      beats += multiple;
      covered += gaps[i];
      if (multiple == 1) {
        single++;
      }
    }
    if (single * 2 < gapCount) {
      return;
    }
    long estimate = covered / beats;
    long worst = 0;
    for (int i = 0; i < gapCount; i++) {
      long multiple = Math.round((double) gaps[i] / estimate);
      worst = Math.max(worst, Math.abs(gaps[i] - multiple * estimate));
    }
    period = estimate;
    spread = worst;
  }
}
