package dev.kiln.warming;

import java.time.Duration;
import java.util.Locale;

/**
 * Decides how long an idle execution environment is kept and when one is readied ahead of the next
 * invocation. A policy only reads a function's {@link InvocationHistory} and answers with a
 * {@link WarmPlan}; keeping, retiring and starting environments is the mechanism's business (the
 * worker, or the {@link dev.kiln.warming.sim.Simulator}), so policies can be swapped and compared
 * on the same trace.
 *
 * <p>The mechanism calls {@link InvocationHistory#arrived} and {@link InvocationHistory#ended} for
 * every invocation and, after each end, {@link #plan} for the environment that just became idle.
 * It reuses idle environments most recently used first, which the per-level histories assume.
 */
public sealed interface WarmingPolicy permits FixedKeepAlive, HybridHistogramPolicy {

  /** A fresh history for one function, shaped the way this policy reads it. */
  InvocationHistory newHistory();

  /**
   * The plan for an environment of the function whose invocation ended at {@code endMillis}, already
   * recorded in {@code history}, which returned the concurrency {@code level} it vacated. Cheap
   * enough to call after every invocation.
   */
  WarmPlan plan(InvocationHistory history, int level, long endMillis);

  /** A short name for logs, stats and tables, e.g. {@code fixed(10m)}. */
  String describe();

  /**
   * The policy {@code kiln up --warming NAME} selects.
   *
   * @param keepAlive the fixed keep-alive, which the histogram policy also uses for functions with
   *     too little history
   */
  static WarmingPolicy named(String name, Duration keepAlive) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "fixed" -> new FixedKeepAlive(keepAlive);
      case "histogram" -> new HybridHistogramPolicy(HybridHistogramPolicy.Settings.defaults(keepAlive));
      default -> throw new IllegalArgumentException("--warming must be 'fixed' or 'histogram', not '" + name + "'.");
    };
  }

  /** Renders a duration compactly for {@link #describe}: 10m, 90s, 4h, 250ms. */
  static String compact(long millis) {
    if (millis % 3_600_000 == 0 && millis > 0) {
      return millis / 3_600_000 + "h";
    }
    if (millis % 60_000 == 0 && millis > 0) {
      return millis / 60_000 + "m";
    }
    if (millis % 1000 == 0) {
      return millis / 1000 + "s";
    }
    return millis + "ms";
  }
}
