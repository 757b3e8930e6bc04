package dev.kiln.warming;

import java.time.Duration;

/**
 * Per-function keep-alive and pre-warm windows learnt from the function's own idle times, after the
 * hybrid histogram policy of Shahrad et al., "Serverless in the Wild" (USENIX ATC 2020).
 *
 * <p>The idea: most functions are either idle for similar stretches every time (then the next
 * invocation can be expected in a window, and memory need not be held before it) or too irregular
 * to predict (then the only defence is keeping the environment a long time). For each function
 * the idle times go into one-minute bins covering four hours. After an invocation:
 *
 * <ol>
 *   <li>a steady beat of start times (a timer, a cron-like caller) wins: let the environment go and
 *       have a fresh one ready shortly (the lead) before the next tick is due;
 *   <li>with too little history, keep it for the configured fixed keep-alive;
 *   <li>when most idle times are beyond the histogram, the fixed keep-alive too (the paper forecasts
 *       these with a time-series model; here only beats are forecast);
 *   <li>when the bin counts are spread out (their coefficient of variation is low), nothing can be
 *       predicted: keep it for the whole range the histogram covers;
 *   <li>otherwise the start of the 5th-percentile bin (less a margin) is when the next invocation
 *       can first be expected and the end of the 99th-percentile bin (plus a margin) when it has
 *       almost surely come. If the first is under a minute, keep the environment until the second;
 *       if not, let it go and pre-warm one for the window in between.
 * </ol>
 *
 * The 1-minute bins, 4-hour range, 5th/99th percentiles, 10% margin and a variation threshold of 2
 * are the paper's figures.
 *
 * <p>The paper plans one instance per application; Kiln runs several environments of a function at
 * once. The rules above decide for the function's first environment (concurrency level 1, see
 * {@link InvocationHistory}). An extra environment, one that only served because others were busy,
 * is kept by a different rule: as long as its expected reuses pay for its memory, priced so that
 * idling {@link Settings#extraWorthMillis} must buy one reuse. For a level reused at random at rate
 * r that means "keep it as long as it takes" when r beats the price and "let it go at once" when
 * not, which the percentile windows get backwards: the rarely reached levels of a busy function
 * have the longest idle-time tails.
 */
public final class HybridHistogramPolicy implements WarmingPolicy {
  private final Settings settings;
  private final WarmPlan.KeepWarm littleHistory;
  private final WarmPlan.KeepWarm outOfRange;
  private final WarmPlan.KeepWarm unpredictable;

  public HybridHistogramPolicy(Settings settings) {
    this.settings = settings;
    this.littleHistory = new WarmPlan.KeepWarm(settings.fallbackKeepMillis(), WarmPlan.Basis.LITTLE_HISTORY);
    this.outOfRange = new WarmPlan.KeepWarm(settings.fallbackKeepMillis(), WarmPlan.Basis.OUT_OF_RANGE);
    this.unpredictable = new WarmPlan.KeepWarm(settings.binMillis() * settings.bins(), WarmPlan.Basis.UNPREDICTABLE);
  }

  @Override
  public InvocationHistory newHistory() {
    return settings.newHistory();
  }

  @Override
  public WarmPlan plan(InvocationHistory history, int level, long endMillis) {
    WarmPlan plan;
    synchronized (history) {
      long period = level == 1 ? history.beats.period() : 0;
      if (period > 0) {
        plan = onBeat(history.beats.lastStart(), period, history.beats.spread(), endMillis);
      } else {
        var state = history.level(level);
        long weight = Math.min(state.recorded, settings.decayAt());
        if (state.cachedPlan == null || state.recorded - state.cachedAtRecorded >= Math.max(1, weight / 32)) {
          state.cachedPlan = level == 1 ? fromHistogram(state.idleTimes) : forExtraEnvironment(state.idleTimes);
          state.cachedAtRecorded = state.recorded;
        }
        plan = state.cachedPlan;
      }
      history.planned(plan);
    }
    return plan;
  }

  /** Ready just before the next tick: {@code lead} ahead of it, kept {@code grace} past it. */
  private WarmPlan onBeat(long lastStart, long period, long spread, long endMillis) {
    long due = lastStart + period;
    if (due <= endMillis) {
      // The invocation outlasted the period (or several): aim at the next tick still ahead.
      due += ((endMillis - due) / period + 1) * period;
    }
    long lead = settings.prewarmLeadMillis() + 2 * spread;
    long grace = PeriodDetector.ABSOLUTE_TOLERANCE_MILLIS + 2 * spread;
    long readyIn = due - lead - endMillis;
    if (readyIn < settings.minReleaseMillis()) {
      return new WarmPlan.KeepWarm(due + grace - endMillis, WarmPlan.Basis.PERIODIC);
    }
    return new WarmPlan.PrewarmLater(readyIn, lead + grace, WarmPlan.Basis.PERIODIC);
  }

  private WarmPlan fromHistogram(IdleTimeHistogram idleTimes) {
    long total = idleTimes.total();
    if (total < settings.minSamples()) {
      return littleHistory;
    }
    if (idleTimes.beyondRange() > total * settings.maxBeyondRangeShare()) {
      return outOfRange;
    }
    if (idleTimes.binCountVariation() < settings.minBinCountVariation()) {
      return unpredictable;
    }
    long head = idleTimes.percentileLowerEdge(settings.headPercentile());
    long tail = idleTimes.percentileUpperEdge(settings.tailPercentile());
    if (head == IdleTimeHistogram.BEYOND_RANGE) {
      return outOfRange;
    }
    if (tail == IdleTimeHistogram.BEYOND_RANGE) {
      tail = idleTimes.rangeMillis();
    }
    long prewarmAfter = (long) (head * (1 - settings.margin()));
    long keepUntil = (long) (tail * (1 + settings.margin()));
    if (prewarmAfter < settings.minReleaseMillis()) {
      return new WarmPlan.KeepWarm(keepUntil, WarmPlan.Basis.HISTOGRAM);
    }
    return new WarmPlan.PrewarmLater(prewarmAfter, keepUntil - prewarmAfter, WarmPlan.Basis.HISTOGRAM);
  }

  /**
   * An extra environment is kept for the idle time T (a bin end, or 0) that maximizes the chance of
   * being reused within T less the expected idling up to T in units of {@link Settings#extraWorthMillis},
   * plus the margin.
   */
  private WarmPlan forExtraEnvironment(IdleTimeHistogram idleTimes) {
    long total = idleTimes.total();
    if (total < settings.minSamples()) {
      return littleHistory;
    }
    double bin = idleTimes.binMillis();
    double best = 0;
    long bestEnd = 0;
    long reused = 0;
    double idledByReused = 0;
    for (int b = 0; b < idleTimes.bins(); b++) {
      int count = idleTimes.count(b);
      reused += count;
      // Those reused within bin b idled about half way through it.
      idledByReused += count * (b + 0.5) * bin;
      double end = (b + 1) * bin;
      double expectedIdle = (idledByReused + (total - reused) * end) / total;
      double value = (double) reused / total - expectedIdle / settings.extraWorthMillis();
      if (value > best) {
        best = value;
        bestEnd = (long) end;
      }
    }
    return new WarmPlan.KeepWarm((long) (bestEnd * (1 + settings.margin())), WarmPlan.Basis.EXTRA_ENVIRONMENT);
  }

  @Override
  public String describe() {
    return "histogram(" + WarmingPolicy.compact(settings.binMillis() * settings.bins()) + ", fallback "
        + WarmingPolicy.compact(settings.fallbackKeepMillis()) + ")";
  }

  /**
   * @param binMillis width of one idle-time bin
   * @param bins how many bins; together they are the histogram's range
   * @param headPercentile the idle time before which the next invocation is not expected
   * @param tailPercentile the idle time by which it has almost surely come
   * @param margin how much earlier the pre-warm and how much later the end of the keep-alive, as a share
   * @param minSamples idle times needed before the histogram is trusted
   * @param minBinCountVariation bin counts varying less than this (coefficient of variation) show no pattern
   * @param maxBeyondRangeShare above this share of idle times beyond the range, the histogram is not used
   * @param fallbackKeepMillis keep-alive with too little history or idle times beyond the range
   * @param minReleaseMillis a gap shorter than this is bridged by keeping the environment, not by
   *     retiring it and starting another (which would cost an initialization for little memory)
   * @param prewarmLeadMillis how long before a due tick a pre-warmed environment should be ready
   * @param decayAt the histogram halves its counts when the total reaches this
   * @param beatMemory start times kept for beat detection
   * @param beatMinGaps agreeing gaps needed to believe a beat
   * @param extraWorthMillis an extra environment is kept while it can expect one reuse per this much idling
   */
  public record Settings(long binMillis, int bins, double headPercentile, double tailPercentile, double margin,
      int minSamples, double minBinCountVariation, double maxBeyondRangeShare, long fallbackKeepMillis,
      long minReleaseMillis, long prewarmLeadMillis, long decayAt, int beatMemory, int beatMinGaps,
      long extraWorthMillis) {

    /**
     * The paper's shape and thresholds, with {@code fixedKeepAlive} as the fallback and as the price
     * of an extra environment: it must expect a reuse per keep-alive of idling, the bet the fixed
     * policy makes for every environment.
     */
    public static Settings defaults(Duration fixedKeepAlive) {
      long keep = fixedKeepAlive.toMillis();
      return new Settings(60_000, 240, 5, 99, 0.10, 10, 2.0, 0.5, keep, 60_000, 10_000, 10_000, 9, 4,
          Math.max(1, keep));
    }

    InvocationHistory newHistory() {
      return new InvocationHistory(() -> new IdleTimeHistogram(binMillis, bins, decayAt),
          new PeriodDetector(beatMemory, beatMinGaps));
    }
  }
}
