package dev.kiln.warming;

/**
 * What to do with an execution environment whose invocation just ended, in milliseconds counted
 * from that end. A plan never names absolute times, so one plan object serves every invocation of a
 * function until its history changes enough to matter.
 */
public sealed interface WarmPlan {
  /** Why the policy chose this plan, for stats and tests. */
  Basis basis();

  /** Keep the environment idle and ready for {@code keepMillis}, then retire it. */
  record KeepWarm(long keepMillis, Basis basis) implements WarmPlan {
    public KeepWarm {
      if (keepMillis < 0) {
        throw new IllegalArgumentException("keepMillis must not be negative: " + keepMillis);
      }
    }
  }

  /**
   * Retire the environment now, have a fresh one ready {@code afterMillis} later, and keep that one
   * for {@code keepMillis}: the next invocation is expected in that window and not before.
   */
  record PrewarmLater(long afterMillis, long keepMillis, Basis basis) implements WarmPlan {
    public PrewarmLater {
      if (afterMillis <= 0 || keepMillis <= 0) {
        throw new IllegalArgumentException("a pre-warm needs a positive delay and window: " + afterMillis + ", "
            + keepMillis);
      }
    }
  }

  /** The evidence a plan rests on. */
  enum Basis {
    /** The fixed keep-alive policy: the same for every function. */
    FIXED,
    /** Too few idle times recorded to learn from: the configured fixed keep-alive. */
    LITTLE_HISTORY,
    /** Idle times spread too evenly over the histogram to predict: keep for the whole histogram range. */
    UNPREDICTABLE,
    /** Most idle times are longer than the histogram covers and no period was found: the fixed keep-alive. */
    OUT_OF_RANGE,
    /** Windows from the idle-time histogram's head and tail percentiles. */
    HISTOGRAM,
    /** Invocations arrive at a steady period (a timer): ready just before the next one is due. */
    PERIODIC,
    /** An environment that only served because others were busy: kept while its reuses pay for its memory. */
    EXTRA_ENVIRONMENT
  }
}
