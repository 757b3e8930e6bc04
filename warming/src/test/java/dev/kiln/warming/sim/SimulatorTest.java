package dev.kiln.warming.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.kiln.warming.FixedKeepAlive;
import dev.kiln.warming.HybridHistogramPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tiny hand-made traces whose cold starts and idle memory can be worked out by hand. */
class SimulatorTest {
  private static final long SECOND = 1_000;
  private static final long MINUTE = 60 * SECOND;
  private static final long HOUR = 60 * MINUTE;
  private static final FixedKeepAlive TEN_MINUTES = new FixedKeepAlive(Duration.ofMinutes(10));

  private static TraceFunction function(String id, int memoryMb, long length, long duration, long... arrivals) {
    var durations = new long[arrivals.length];
    java.util.Arrays.fill(durations, duration);
    return TraceFunction.recorded(id, memoryMb, length, arrivals, durations);
  }

  @Test
  void invocationsWithinTheKeepAliveAreWarm() {
    var trace = new Trace(List.of(function("f", 1024, HOUR, SECOND, 0, 5 * MINUTE, 10 * MINUTE)), HOUR);
    var result = Simulator.run(trace, TEN_MINUTES, Simulator.UNBOUNDED);
    assertThat(result.invocations()).isEqualTo(3);
    assertThat(result.coldStarts()).isEqualTo(1);
    assertThat(result.coldStartRate()).isCloseTo(1 / 3.0, within(1e-9));
    // Idle 4:59 twice, then the full 10 minutes after the last: 1 GB for 1,198 s.
    assertThat(result.idleGbSeconds()).isCloseTo(2 * 299 + 600, within(1e-6));
  }

  @Test
  void gapsLongerThanTheKeepAliveAreCold() {
    var trace = new Trace(List.of(function("f", 512, HOUR, SECOND, 0, 15 * MINUTE, 30 * MINUTE)), HOUR);
    var result = Simulator.run(trace, TEN_MINUTES, Simulator.UNBOUNDED);
    assertThat(result.coldStarts()).isEqualTo(3);
    assertThat(result.idleGbSeconds()).isCloseTo(3 * 600 * 0.5, within(1e-6));
    assertThat(result.p75FunctionColdStartRate()).isEqualTo(1.0);
  }

  @Test
  void idleMemoryStopsAtTheEndOfTheTrace() {
    var trace = new Trace(List.of(function("f", 1024, 5 * MINUTE, SECOND, 0)), 5 * MINUTE);
    var result = Simulator.run(trace, TEN_MINUTES, Simulator.UNBOUNDED);
    assertThat(result.idleGbSeconds()).isCloseTo(299, within(1e-6));
  }

  @Test
  void overlappingInvocationsNeedTheirOwnEnvironments() {
    var trace = new Trace(List.of(function("f", 1024, HOUR, 10 * SECOND, 0, SECOND, 2 * SECOND, MINUTE)), HOUR);
    var result = Simulator.run(trace, TEN_MINUTES, Simulator.UNBOUNDED);
    assertThat(result.coldStarts()).as("three at once, then one reuses").isEqualTo(3);
  }

  @Test
  void overTheBudgetTheLeastRecentlyUsedIdleEnvironmentIsEvicted() {
    // Room for one idle 1 GB environment: g going idle evicts f's, so f's second call is cold.
    var trace = new Trace(List.of(
        function("f", 1024, HOUR, SECOND, 0, 4 * MINUTE),
        function("g", 1024, HOUR, SECOND, MINUTE, 3 * MINUTE)), HOUR);
    var unbounded = Simulator.run(trace, TEN_MINUTES, Simulator.UNBOUNDED);
    assertThat(unbounded.coldStarts()).isEqualTo(2);
    var budgeted = Simulator.run(trace, TEN_MINUTES, 1024);
    assertThat(budgeted.coldStarts()).isEqualTo(3);
    assertThat(budgeted.evictions()).isEqualTo(2);
    assertThat(budgeted.functions().get("f")).isEqualTo(new Simulator.FunctionOutcome(2, 2,
        budgeted.functions().get("f").idleGbSeconds()));
    assertThat(budgeted.functions().get("g").coldStarts()).isEqualTo(1);
    assertThat(budgeted.idleGbSeconds()).isLessThan(unbounded.idleGbSeconds());
  }

  @Test
  void anExpiredEnvironmentFreesItsBudgetWithoutAnEviction() {
    var trace = new Trace(List.of(
        function("f", 1024, 2 * HOUR, SECOND, 0),
        function("g", 1024, 2 * HOUR, SECOND, HOUR, HOUR + MINUTE)), 2 * HOUR);
    var result = Simulator.run(trace, TEN_MINUTES, 1024);
    assertThat(result.evictions()).isZero();
    assertThat(result.coldStarts()).isEqualTo(2);
  }

  @Test
  void aTimerIsServedByPrewarmedEnvironmentsOnceItsBeatIsLearnt() {
    var arrivals = new ArrayList<Long>();
    for (long t = 0; t < 12 * HOUR; t += 30 * MINUTE) {
      arrivals.add(t + (arrivals.size() % 3) * 700);
    }
    long[] at = arrivals.stream().mapToLong(Long::longValue).toArray();
    var trace = new Trace(List.of(function("timer", 1024, 12 * HOUR, 2 * SECOND, at)), 12 * HOUR);

    var fixed = Simulator.run(trace, TEN_MINUTES, Simulator.UNBOUNDED);
    assertThat(fixed.coldStarts()).isEqualTo(at.length);

    var histogram = Simulator.run(trace,
        new HybridHistogramPolicy(HybridHistogramPolicy.Settings.defaults(Duration.ofMinutes(10))),
        Simulator.UNBOUNDED);
    // The first five ticks teach the beat (four gaps); every later one finds an environment ready.
    assertThat(histogram.coldStarts()).isEqualTo(5);
    assertThat(histogram.prewarmHits()).isEqualTo(at.length - 5);
    assertThat(histogram.prewarmsWasted()).isZero();
    // Each pre-warmed environment idles about 13 s (lead and jitter), not 10 minutes a tick.
    assertThat(histogram.idleGbSeconds()).isLessThan(fixed.idleGbSeconds() / 4);
  }

  @Test
  void theP75FunctionIsThreeQuartersUpTheRankingByColdStartRate() {
    // Cold starts: a 1 of 4, b 2 of 2, c 1 of 2, d 1 of 1.
    var trace = new Trace(List.of(
        function("a", 128, HOUR, SECOND, 0, MINUTE, 2 * MINUTE, 3 * MINUTE),
        function("b", 128, HOUR, SECOND, 0, 30 * MINUTE),
        function("c", 128, HOUR, SECOND, 0, MINUTE),
        function("d", 128, HOUR, SECOND, 0),
        function("never", 128, HOUR, SECOND)), HOUR);
    var result = Simulator.run(trace, TEN_MINUTES, Simulator.UNBOUNDED);
    // Sorted: 0.25, 0.5, 1, 1 (the function never invoked is left out): the 3rd of 4.
    assertThat(result.p75FunctionColdStartRate()).isEqualTo(1.0);
    assertThat(result.coldStarts()).isEqualTo(5);
    assertThat(result.functions().get("never").invocations()).isZero();
  }
}
