package dev.kiln.warming.sim;

import java.util.function.Supplier;

/**
 * One function of a trace: what an environment of it costs and how it is invoked. The invocations
 * are produced afresh by each {@link #invocations} cursor, so a trace of millions of invocations
 * can be replayed against several policies without being stored.
 *
 * @param ratePerHour the invocation rate the function was generated with (for recorded functions:
 *     its invocations over the trace's length)
 */
public record TraceFunction(String id, int memoryMb, Pattern pattern, double ratePerHour,
    Supplier<InvocationCursor> invocations) {

  /** How a function's invocations arrive. */
  public enum Pattern {
    /** Independent arrivals at a steady average rate (a Poisson process). */
    STEADY,
    /** A timer: one invocation per period, a little jitter, an occasional missed tick. */
    PERIODIC,
    /** Clusters of invocations close together, separated by long quiet spells. */
    BURSTY,
    /** Given invocation by invocation, e.g. a hand-made test trace. */
    RECORDED
  }

  /** A function with the given arrivals (ascending) and durations, both in milliseconds. */
  public static TraceFunction recorded(String id, int memoryMb, long lengthMillis, long[] arrivals, long[] durations) {
    if (arrivals.length != durations.length) {
      throw new IllegalArgumentException("one duration per arrival: " + arrivals.length + " vs " + durations.length);
    }
    for (int i = 1; i < arrivals.length; i++) {
      if (arrivals[i] < arrivals[i - 1]) {
        throw new IllegalArgumentException("arrivals of " + id + " must ascend (index " + i + ")");
      }
    }
    long[] a = arrivals.clone();
    long[] d = durations.clone();
    double rate = lengthMillis <= 0 ? 0 : a.length * 3_600_000.0 / lengthMillis;
    return new TraceFunction(id, memoryMb, Pattern.RECORDED, rate, () -> new InvocationCursor() {
      private int index = -1;

      @Override
      public boolean advance() {
        return ++index < a.length;
      }

      @Override
      public long arrivalMillis() {
        return a[index];
      }

      @Override
      public long durationMillis() {
        return d[index];
      }
    });
  }
}
