package dev.kiln.warming.sim;

import java.time.Duration;
import java.util.ArrayList;
import java.util.SplittableRandom;

/**
 * Generates traces shaped like the Azure Functions workload described in "Serverless in the Wild"
 * (Shahrad et al., ATC 2020): invocation rates spread over many orders of magnitude, with about 45%
 * of functions invoked at most once an hour, 81% at most once a minute, and a few invoked many times
 * a second; a share of timer-triggered functions; bursty ones; and execution times around a second.
 *
 * <p>A trace is a pure function of its arguments and seed: every function draws from its own
 * generator seeded from the trace seed and its index, so replays and reruns see the same invocations.
 */
public final class SyntheticTrace {
  /**
   * The rate distribution, as cumulative share of functions against invocations per hour; between
   * two points rates are log-uniform. The 0.45 and 0.81 points are the paper's figures; the ends
   * (one a day, ten a second) bound what a trace of a few days can show.
   */
  static final double[] RATE_SHARE = {0.0, 0.45, 0.81, 0.99, 1.0};
  static final double[] RATE_PER_HOUR = {1.0 / 24, 1, 60, 3_600, 36_000};
  /** Among functions invoked at most once a minute, this share are timers and this share bursty. */
  static final double PERIODIC_SHARE = 0.30;
  static final double BURSTY_SHARE_RARE = 0.15;
  /** Among hotter functions, this share is bursty; the rest are steady. */
  static final double BURSTY_SHARE_HOT = 0.20;
  /** Timer periods people configure, in minutes. */
  static final long[] TIMER_MINUTES = {1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440};
  private static final double MISSED_TICK = 0.01;
  private static final int[] MEMORY_MB = {128, 256, 512, 1024, 2048};
  private static final double[] MEMORY_SHARE = {0.30, 0.30, 0.20, 0.15, 0.05};
  private static final long LONGEST_RUN_MILLIS = 15 * 60_000;

  private SyntheticTrace() {}

  /** {@code functions} functions invoked over {@code length}, reproducible from {@code seed}. */
  public static Trace azureLike(int functions, Duration length, long seed) {
    if (functions <= 0 || length.toMillis() <= 0) {
      throw new IllegalArgumentException("a trace needs functions and a length");
    }
    long lengthMillis = length.toMillis();
    var list = new ArrayList<TraceFunction>(functions);
    for (int i = 0; i < functions; i++) {
      list.add(function(i, lengthMillis, new SplittableRandom(mix(seed, i))));
    }
    return new Trace(list, lengthMillis);
  }

  private static TraceFunction function(int index, long lengthMillis, SplittableRandom random) {
    double rate = rate(random.nextDouble());
    int memory = MEMORY_MB[pick(random.nextDouble(), MEMORY_SHARE)];
    // Half of all functions run under a second on average: medians log-uniform over 30 ms .. 20 s.
    double medianRunMillis = Math.exp(Math.log(30) + random.nextDouble() * (Math.log(20_000) - Math.log(30)));
    double kind = random.nextDouble();
    long streamSeed = random.nextLong();
    String id = String.format("fn-%04d", index);
    if (rate <= 60 && kind < PERIODIC_SHARE) {
      long periodMillis = timerPeriod(rate);
      long phase = (long) (random.nextDouble() * periodMillis);
      double jitterMillis = 100 + random.nextDouble() * 1_900;
      return new TraceFunction(id, memory, TraceFunction.Pattern.PERIODIC, 3_600_000.0 / periodMillis,
          () -> new Timer(new SplittableRandom(streamSeed), lengthMillis, periodMillis, phase, jitterMillis,
              medianRunMillis));
    }
    double burstyShare = rate <= 60 ? BURSTY_SHARE_RARE : BURSTY_SHARE_HOT;
    if (kind >= 1 - burstyShare) {
      double burstSize = 5 + random.nextDouble() * 45;
      double innerGapMillis = 500 + random.nextDouble() * 9_500;
      return new TraceFunction(id, memory, TraceFunction.Pattern.BURSTY, rate,
          () -> new Bursts(new SplittableRandom(streamSeed), lengthMillis, rate, burstSize, innerGapMillis,
              medianRunMillis));
    }
    return new TraceFunction(id, memory, TraceFunction.Pattern.STEADY, rate,
        () -> new Steady(new SplittableRandom(streamSeed), lengthMillis, rate, medianRunMillis));
  }

  /** The rate at cumulative share {@code u} of the distribution. */
  static double rate(double u) {
    for (int i = 1; i < RATE_SHARE.length; i++) {
      if (u <= RATE_SHARE[i]) {
        double within = (u - RATE_SHARE[i - 1]) / (RATE_SHARE[i] - RATE_SHARE[i - 1]);
        double low = Math.log(RATE_PER_HOUR[i - 1]);
        double high = Math.log(RATE_PER_HOUR[i]);
        return Math.exp(low + within * (high - low));
      }
    }
    return RATE_PER_HOUR[RATE_PER_HOUR.length - 1];
  }

  /**
   * The longest configured timer period no longer than the function's mean gap (at least a minute),
   * so a timer stays in the same rate class as the rate it was drawn with.
   */
  static long timerPeriod(double ratePerHour) {
    double gapMinutes = 60 / ratePerHour;
    long chosen = TIMER_MINUTES[0];
    for (long minutes : TIMER_MINUTES) {
      if (minutes <= gapMinutes) {
        chosen = minutes;
      }
    }
    return chosen * 60_000;
  }

  private static int pick(double u, double[] shares) {
    double sum = 0;
    for (int i = 0; i < shares.length; i++) {
      sum += shares[i];
      if (u < sum) {
        return i;
      }
    }
    return shares.length - 1;
  }

  private static long mix(long seed, int index) {
    long z = seed + 0x9E3779B97F4A7C15L * (index + 1);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Exponentially distributed with the given mean. */
  private static double exponential(SplittableRandom random, double mean) {
    return -mean * Math.log(1 - random.nextDouble());
  }

  /** Execution times vary around the function's median (log-normal, sigma 0.5). */
  private static long runMillis(SplittableRandom random, double median) {
    double z = gaussian(random);
    return Math.max(1, Math.min(LONGEST_RUN_MILLIS, Math.round(median * Math.exp(0.5 * z))));
  }

  private static double gaussian(SplittableRandom random) {
    // Box-Muller; SplittableRandom has no nextGaussian.
    double u = 1 - random.nextDouble();
    double v = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Common cursor state: the current invocation and the trace end. */
  private abstract static class Generated implements InvocationCursor {
    final SplittableRandom random;
    final long lengthMillis;
    final double medianRunMillis;
    long arrival;
    long duration;

    Generated(SplittableRandom random, long lengthMillis, double medianRunMillis) {
      this.random = random;
      this.lengthMillis = lengthMillis;
      this.medianRunMillis = medianRunMillis;
    }

    /** Sets the next arrival if it is inside the trace. */
    final boolean at(double arrivalMillis) {
      if (arrivalMillis >= lengthMillis) {
        return false;
      }
      arrival = Math.max(arrival, (long) arrivalMillis);
      duration = runMillis(random, medianRunMillis);
      return true;
    }

    @Override
    public long arrivalMillis() {
      return arrival;
    }

    @Override
    public long durationMillis() {
      return duration;
    }
  }

  private static final class Steady extends Generated {
    private final double meanGapMillis;
    private double clock;

    Steady(SplittableRandom random, long lengthMillis, double ratePerHour, double medianRunMillis) {
      super(random, lengthMillis, medianRunMillis);
      this.meanGapMillis = 3_600_000 / ratePerHour;
    }

    @Override
    public boolean advance() {
      clock += exponential(random, meanGapMillis);
      return at(clock);
    }
  }

  private static final class Timer extends Generated {
    private final long periodMillis;
    private final double jitterMillis;
    private long tick;

    Timer(SplittableRandom random, long lengthMillis, long periodMillis, long phase, double jitterMillis,
        double medianRunMillis) {
      super(random, lengthMillis, medianRunMillis);
      this.periodMillis = periodMillis;
      this.jitterMillis = jitterMillis;
      this.tick = phase - periodMillis;
    }

    @Override
    public boolean advance() {
      do {
        tick += periodMillis;
      } while (random.nextDouble() < MISSED_TICK);
      // Timers fire late, not early: the jitter is a delay.
      return at(tick + Math.abs(gaussian(random)) * jitterMillis);
    }
  }

  private static final class Bursts extends Generated {
    private final double burstSize;
    private final double innerGapMillis;
    private final double quietMillis;
    private double clock;
    private long leftInBurst;

    Bursts(SplittableRandom random, long lengthMillis, double ratePerHour, double burstSize, double innerGapMillis,
        double medianRunMillis) {
      super(random, lengthMillis, medianRunMillis);
      this.burstSize = burstSize;
      this.innerGapMillis = innerGapMillis;
      // Bursts of burstSize at the function's mean rate: one burst per burstSize mean gaps.
      this.quietMillis = Math.max(0, burstSize * 3_600_000 / ratePerHour - burstSize * innerGapMillis);
    }

    @Override
    public boolean advance() {
      if (leftInBurst == 0) {
        clock += exponential(random, quietMillis);
        leftInBurst = 1 + (long) exponential(random, burstSize - 1);
      } else {
        clock += exponential(random, innerGapMillis);
      }
      leftInBurst--;
      return at(clock);
    }
  }
}
