package dev.kiln.warming;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * What a policy knows about one function: how long its environments sat idle before each reuse
 * ({@link IdleTimeHistogram}s) and when its busy periods began (a {@link PeriodDetector}). The
 * mechanism that runs invocations reports each arrival and each end; both cost a few field writes
 * under an uncontended lock and allocate nothing, except when the function reaches a concurrency
 * it never had before.
 *
 * <p>Idle times are kept per concurrency level. An arrival that takes the function from k-1 to k
 * invocations in flight records, in level k's histogram, how long ago the function last dropped
 * below k. For k = 1 that is the classic idle time of the function; for higher k it is how long the
 * k-th environment waited. This matches how the mechanism reuses environments, most recently used
 * first: the environment that just vacated level k is the next one taken when the function climbs
 * back to k. A function swinging between 3 and 8 in flight thus learns that its 4th to 8th
 * environments are wanted again within seconds, and its 9th hardly ever, where one function-wide
 * histogram would only see idle times of zero. Levels beyond {@link #MAX_LEVELS} share the last
 * histogram.
 *
 * <p>Times are milliseconds on any monotonic clock; only differences matter.
 */
public final class InvocationHistory {
  /** Levels with a histogram of their own; deeper ones share the last. */
  public static final int MAX_LEVELS = 32;

  final PeriodDetector beats;
  private final Supplier<IdleTimeHistogram> newHistogram;
  private Level[] levels = new Level[4];
  private int inFlight;
  /** {@code droppedAt[k - 1]}: when the function last went from k to k-1 in flight, or MIN_VALUE. */
  private long[] droppedAt = new long[4];
  private WarmPlan lastPlan;

  InvocationHistory(Supplier<IdleTimeHistogram> newHistogram, PeriodDetector beats) {
    this.newHistogram = newHistogram;
    this.beats = beats;
    Arrays.fill(droppedAt, Long.MIN_VALUE);
  }

  /** An invocation of the function arrived at {@code nowMillis}. */
  public synchronized void arrived(long nowMillis) {
    if (inFlight == 0) {
      beats.record(nowMillis);
    }
    int level = ++inFlight;
    if (level <= droppedAt.length && droppedAt[level - 1] != Long.MIN_VALUE) {
      level(level).record(nowMillis - droppedAt[level - 1]);
    }
  }

  /**
   * An invocation of the function ended at {@code nowMillis}. Returns the concurrency level it
   * vacated (1 when the function is idle now), which {@link WarmingPolicy#plan} wants.
   */
  public synchronized int ended(long nowMillis) {
    if (inFlight == 0) {
      return 1;
    }
    int level = inFlight--;
    if (level > droppedAt.length) {
      int size = Math.max(level, droppedAt.length * 2);
      int old = droppedAt.length;
      droppedAt = Arrays.copyOf(droppedAt, size);
      Arrays.fill(droppedAt, old, size, Long.MIN_VALUE);
    }
    droppedAt[level - 1] = nowMillis;
    return level;
  }

  /** The histogram state of {@code level} (1-based), created on first use. */
  synchronized Level level(int level) {
    int index = Math.min(level, MAX_LEVELS) - 1;
    if (index >= levels.length) {
      levels = Arrays.copyOf(levels, Math.min(MAX_LEVELS, Math.max(index + 1, levels.length * 2)));
    }
    var state = levels[index];
    if (state == null) {
      state = new Level(newHistogram.get());
      levels[index] = state;
    }
    return state;
  }

  synchronized void planned(WarmPlan plan) {
    lastPlan = plan;
  }

  /** What the history shows now, for stats and tests. */
  public synchronized Summary summary() {
    var first = level(1).idleTimes;
    long total = first.total();
    int deepest = 0;
    for (int i = 0; i < levels.length; i++) {
      if (levels[i] != null && levels[i].recorded > 0) {
        deepest = i + 1;
      }
    }
    return new Summary(level(1).recorded, total, first.beyondRange(),
        total == 0 ? IdleTimeHistogram.BEYOND_RANGE : first.percentileLowerEdge(5),
        total == 0 ? IdleTimeHistogram.BEYOND_RANGE : first.percentileUpperEdge(50),
        total == 0 ? IdleTimeHistogram.BEYOND_RANGE : first.percentileUpperEdge(99),
        first.binCountVariation(), deepest, beats.period(), beats.spread(), lastPlan);
  }

  /** One concurrency level's idle times and the plan the policy last drew from them. */
  static final class Level {
    final IdleTimeHistogram idleTimes;
    /** Idle times recorded at this level since the start; unlike the histogram's total it never fades. */
    long recorded;
    WarmPlan cachedPlan;
    long cachedAtRecorded = -1;

    Level(IdleTimeHistogram idleTimes) {
      this.idleTimes = idleTimes;
    }

    void record(long idleMillis) {
      idleTimes.add(idleMillis);
      recorded++;
    }
  }

  /**
   * A function's history at a glance, from the idle times of its first environment (the function's
   * own idle times). Percentiles are in milliseconds at bin granularity (the 5th as the start of its
   * bin, the others as the end), or -1 when empty or beyond the histogram.
   *
   * @param recorded idle times recorded since the start
   * @param weight the histogram's current total after fading (see {@link IdleTimeHistogram})
   * @param levels the deepest concurrency level with idle times of its own
   * @param periodMillis the detected beat, or 0
   * @param lastPlan the plan given after the latest invocation, or null before any
   */
  public record Summary(long recorded, long weight, long beyondRange, long p5Millis, long p50Millis,
      long p99Millis, double binCountVariation, int levels, long periodMillis, long periodSpreadMillis,
      WarmPlan lastPlan) {}
}
