package dev.kiln.warming;

import java.time.Duration;

/**
 * Keeps every idle environment for the same time and never pre-warms: what Kiln (and Lambda, with
 * ten minutes) did before the histogram policy. It still records histories, so stats show what the
 * histogram policy would have learnt.
 */
public final class FixedKeepAlive implements WarmingPolicy {
  private final Duration keepAlive;
  private final WarmPlan.KeepWarm plan;

  public FixedKeepAlive(Duration keepAlive) {
    if (keepAlive.isNegative()) {
      throw new IllegalArgumentException("the keep-alive must not be negative: " + keepAlive);
    }
    this.keepAlive = keepAlive;
    this.plan = new WarmPlan.KeepWarm(keepAlive.toMillis(), WarmPlan.Basis.FIXED);
  }

  @Override
  public InvocationHistory newHistory() {
    return HybridHistogramPolicy.Settings.defaults(keepAlive).newHistory();
  }

  @Override
  public WarmPlan plan(InvocationHistory history, int level, long endMillis) {
    history.planned(plan);
    return plan;
  }

  @Override
  public String describe() {
    return "fixed(" + WarmingPolicy.compact(keepAlive.toMillis()) + ")";
  }
}
