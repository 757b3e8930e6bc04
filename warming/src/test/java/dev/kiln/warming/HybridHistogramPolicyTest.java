package dev.kiln.warming;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HybridHistogramPolicyTest {
  private static final long SECOND = 1_000;
  private static final long MINUTE = 60 * SECOND;
  private final HybridHistogramPolicy policy =
      new HybridHistogramPolicy(HybridHistogramPolicy.Settings.defaults(Duration.ofMinutes(10)));
  private final InvocationHistory history = policy.newHistory();
  private final SplittableRandom random = new SplittableRandom(3);

  /** One invocation at a time: arrives at {@code at}, runs a second; returns the plan after it. */
  private WarmPlan invoke(long at) {
    history.arrived(at);
    int level = history.ended(at + SECOND);
    assertThat(level).isEqualTo(1);
    return policy.plan(history, level, at + SECOND);
  }

  /** Invocations separated by the given idle times (after a one-second run each); the last plan. */
  private WarmPlan idleTimes(long... idle) {
    long clock = 0;
    WarmPlan plan = invoke(clock);
    for (long gap : idle) {
      clock += SECOND + gap;
      plan = invoke(clock);
    }
    return plan;
  }

  /** Idle times drawn uniformly in [from, to) minutes and never on a beat. */
  private long[] irregular(int count, double fromMinutes, double toMinutes) {
    var gaps = new long[count];
    for (int i = 0; i < count; i++) {
      gaps[i] = (long) ((fromMinutes + random.nextDouble() * (toMinutes - fromMinutes)) * MINUTE);
    }
    return gaps;
  }

  @Test
  void aFunctionWithLittleHistoryGetsTheFixedKeepAlive() {
    var plan = idleTimes(irregular(5, 20, 40));
    assertThat(plan).isEqualTo(new WarmPlan.KeepWarm(10 * MINUTE, WarmPlan.Basis.LITTLE_HISTORY));
  }

  @Test
  void idleTimesInAWindowLetTheEnvironmentGoAndPrewarmBeforeTheWindow() {
    var plan = idleTimes(irregular(200, 20, 40));
    assertThat(plan).isInstanceOf(WarmPlan.PrewarmLater.class);
    var prewarm = (WarmPlan.PrewarmLater) plan;
    assertThat(prewarm.basis()).isEqualTo(WarmPlan.Basis.HISTOGRAM);
    // 5th percentile in the bin starting at 20 or 21 minutes, less 10%; 99th ends at 40, plus 10%.
    assertThat(prewarm.afterMillis()).isBetween((long) (20 * MINUTE * 0.9), (long) (21 * MINUTE * 0.9));
    assertThat(prewarm.afterMillis() + prewarm.keepMillis()).isEqualTo((long) (40 * MINUTE * 1.1));
  }

  @Test
  void shortIdleTimesKeepTheEnvironmentThroughTheTail() {
    var plan = idleTimes(irregular(200, 0, 3));
    assertThat(plan).isEqualTo(new WarmPlan.KeepWarm((long) (3 * MINUTE * 1.1), WarmPlan.Basis.HISTOGRAM));
  }

  @Test
  void idleTimesSpreadOverTheWholeRangeKeepForTheRange() {
    var plan = idleTimes(irregular(300, 0, 239));
    assertThat(plan).isEqualTo(new WarmPlan.KeepWarm(240 * MINUTE, WarmPlan.Basis.UNPREDICTABLE));
  }

  @Test
  void idleTimesMostlyBeyondTheRangeFallBackToTheFixedKeepAlive() {
    var plan = idleTimes(irregular(30, 300, 900));
    assertThat(plan).isEqualTo(new WarmPlan.KeepWarm(10 * MINUTE, WarmPlan.Basis.OUT_OF_RANGE));
  }

  @Test
  void aTimerGetsAnEnvironmentJustBeforeItsNextTick() {
    WarmPlan plan = null;
    long lastArrival = 0;
    for (int i = 0; i < 8; i++) {
      lastArrival = i * 15 * MINUTE + random.nextInt(1_500);
      plan = invoke(lastArrival);
    }
    assertThat(plan).isInstanceOf(WarmPlan.PrewarmLater.class);
    var prewarm = (WarmPlan.PrewarmLater) plan;
    assertThat(prewarm.basis()).isEqualTo(WarmPlan.Basis.PERIODIC);
    long end = lastArrival + SECOND;
    long readyAt = end + prewarm.afterMillis();
    long until = readyAt + prewarm.keepMillis();
    long nextTick = 8 * 15 * MINUTE;
    assertThat(readyAt).as("ready before the next tick").isBetween(nextTick - 30 * SECOND, nextTick - 5 * SECOND);
    assertThat(until).as("kept a little past it").isBetween(nextTick + 3 * SECOND, nextTick + 30 * SECOND);
  }

  @Test
  void aTimerOfAMinuteIsSimplyKeptWarm() {
    WarmPlan plan = null;
    for (int i = 0; i < 8; i++) {
      plan = invoke(i * MINUTE);
    }
    assertThat(plan).isInstanceOf(WarmPlan.KeepWarm.class);
    assertThat(plan.basis()).isEqualTo(WarmPlan.Basis.PERIODIC);
    // Ends 1 s after the 8th tick; kept until 5 s past the 9th.
    assertThat(((WarmPlan.KeepWarm) plan).keepMillis()).isEqualTo(MINUTE - SECOND + 5 * SECOND);
  }

  @Test
  void anExtraEnvironmentIsKeptOnlyWhenItIsReusedOftenEnough() {
    // Two invocations overlap every 2 minutes: the second environment is wanted again soon.
    long clock = 0;
    WarmPlan second = null;
    for (int i = 0; i < 40; i++) {
      history.arrived(clock);
      history.arrived(clock + 100);
      assertThat(history.ended(clock + 500)).isEqualTo(2);
      second = policy.plan(history, 2, clock + 500);
      history.ended(clock + 900);
      clock += 2 * MINUTE;
    }
    assertThat(second.basis()).isEqualTo(WarmPlan.Basis.EXTRA_ENVIRONMENT);
    // Reused after just under 2 minutes each time: kept to the end of that bin, plus the margin.
    assertThat(((WarmPlan.KeepWarm) second).keepMillis()).isEqualTo((long) (2 * MINUTE * 1.1));

    // A third is needed only once an hour or so: not worth its memory at one reuse per 10 minutes.
    var rare = policy.newHistory();
    WarmPlan third = null;
    for (int i = 0; i < 40; i++) {
      long at = i * 61 * MINUTE + random.nextInt(20) * MINUTE;
      rare.arrived(at);
      rare.arrived(at + 1);
      rare.arrived(at + 2);
      assertThat(rare.ended(at + 10)).isEqualTo(3);
      third = policy.plan(rare, 3, at + 10);
      rare.ended(at + 11);
      rare.ended(at + 12);
    }
    assertThat(third).isEqualTo(new WarmPlan.KeepWarm(0, WarmPlan.Basis.EXTRA_ENVIRONMENT));
  }

  @Test
  void theSummaryShowsTheHistogramAndThePlan() {
    idleTimes(irregular(200, 20, 40));
    var summary = history.summary();
    assertThat(summary.recorded()).isEqualTo(200);
    assertThat(summary.p5Millis()).isBetween(20 * MINUTE, 21 * MINUTE);
    assertThat(summary.p99Millis()).isEqualTo(40 * MINUTE);
    assertThat(summary.binCountVariation()).isGreaterThan(2);
    assertThat(summary.periodMillis()).isZero();
    assertThat(summary.levels()).isEqualTo(1);
    assertThat(summary.lastPlan()).isInstanceOf(WarmPlan.PrewarmLater.class);
  }

  @Test
  void theFixedPolicyIgnoresHistory() {
    var fixed = new FixedKeepAlive(Duration.ofMinutes(7));
    var fixedHistory = fixed.newHistory();
    for (int i = 0; i < 50; i++) {
      fixedHistory.arrived(i * 30 * MINUTE);
      fixedHistory.ended(i * 30 * MINUTE + SECOND);
    }
    assertThat(fixed.plan(fixedHistory, 1, 0)).isEqualTo(new WarmPlan.KeepWarm(7 * MINUTE, WarmPlan.Basis.FIXED));
    assertThat(fixed.describe()).isEqualTo("fixed(7m)");
  }

  @Test
  void policiesAreChosenByName() {
    assertThat(WarmingPolicy.named("fixed", Duration.ofMinutes(3))).isInstanceOf(FixedKeepAlive.class);
    assertThat(WarmingPolicy.named("Histogram", Duration.ofMinutes(3))).isInstanceOf(HybridHistogramPolicy.class);
    assertThatThrownBy(() -> WarmingPolicy.named("lru", Duration.ofMinutes(3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'fixed' or 'histogram'");
  }
}
