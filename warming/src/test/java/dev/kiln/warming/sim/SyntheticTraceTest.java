package dev.kiln.warming.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyntheticTraceTest {
  private static final long HOUR = 3_600_000;

  private static List<long[]> arrivals(Trace trace) {
    var all = new ArrayList<long[]>();
    for (var function : trace.functions()) {
      var cursor = function.invocations().get();
      var times = new ArrayList<Long>();
      while (cursor.advance()) {
        assertThat(cursor.durationMillis()).isPositive();
        times.add(cursor.arrivalMillis());
      }
      all.add(times.stream().mapToLong(Long::longValue).toArray());
    }
    return all;
  }

  @Test
  void ratesFollowTheAzureShares() {
    var trace = SyntheticTrace.azureLike(4_000, Duration.ofHours(1), 1);
    var functions = trace.functions();
    double hourly = functions.stream().filter(f -> f.ratePerHour() <= 1).count() / 4000.0;
    double minutely = functions.stream().filter(f -> f.ratePerHour() <= 60).count() / 4000.0;
    double hot = functions.stream().filter(f -> f.ratePerHour() > 3_600).count() / 4000.0;
    assertThat(hourly).isCloseTo(0.45, within(0.03));
    assertThat(minutely).isCloseTo(0.81, within(0.03));
    assertThat(hot).as("a few invoked more than once a second").isBetween(0.003, 0.02);
    double periodic = functions.stream().filter(f -> f.pattern() == TraceFunction.Pattern.PERIODIC).count() / 4000.0;
    double bursty = functions.stream().filter(f -> f.pattern() == TraceFunction.Pattern.BURSTY).count() / 4000.0;
    assertThat(periodic).isCloseTo(0.81 * SyntheticTrace.PERIODIC_SHARE, within(0.03));
    assertThat(bursty).isCloseTo(0.81 * SyntheticTrace.BURSTY_SHARE_RARE + 0.19 * SyntheticTrace.BURSTY_SHARE_HOT,
        within(0.03));
  }

  @Test
  void invokedCountsOverADayMatchTheShares() {
    var trace = SyntheticTrace.azureLike(300, Duration.ofHours(24), 5);
    var arrivals = arrivals(trace);
    int hourly = 0;
    int minutely = 0;
    for (long[] times : arrivals) {
      hourly += times.length <= 24 ? 1 : 0;
      minutely += times.length <= 24 * 60 ? 1 : 0;
    }
    assertThat(hourly / 300.0).isCloseTo(0.45, within(0.08));
    assertThat(minutely / 300.0).isCloseTo(0.81, within(0.08));
  }

  @Test
  void arrivalsAscendWithinTheTraceAndTimersKeepTheirPeriod() {
    var trace = SyntheticTrace.azureLike(200, Duration.ofHours(12), 9);
    var arrivals = arrivals(trace);
    for (int i = 0; i < arrivals.size(); i++) {
      long[] times = arrivals.get(i);
      for (int j = 0; j < times.length; j++) {
        assertThat(times[j]).isBetween(0L, trace.lengthMillis() - 1);
        if (j > 0) {
          assertThat(times[j]).isGreaterThanOrEqualTo(times[j - 1]);
        }
      }
      var function = trace.functions().get(i);
      if (function.pattern() == TraceFunction.Pattern.PERIODIC && times.length > 2) {
        long period = Math.round(HOUR / function.ratePerHour());
        for (int j = 1; j < times.length; j++) {
          long gap = times[j] - times[j - 1];
          long ticks = Math.round((double) gap / period);
          assertThat(Math.abs(gap - ticks * period)).as("jitter of %s", function.id()).isLessThan(12_000);
        }
      }
    }
  }

  @Test
  void aSeedReproducesItsTraceAndAnotherSeedDoesNot() {
    var once = arrivals(SyntheticTrace.azureLike(50, Duration.ofHours(6), 11));
    var again = arrivals(SyntheticTrace.azureLike(50, Duration.ofHours(6), 11));
    var other = arrivals(SyntheticTrace.azureLike(50, Duration.ofHours(6), 12));
    assertThat(again).usingRecursiveComparison().isEqualTo(once);
    assertThat(other).usingRecursiveComparison().isNotEqualTo(once);
  }

  @Test
  void timerPeriodsStayInTheirRateClass() {
    assertThat(SyntheticTrace.timerPeriod(0.9)).isEqualTo(60 * 60_000);
    assertThat(SyntheticTrace.timerPeriod(1.5)).isEqualTo(30 * 60_000);
    assertThat(SyntheticTrace.timerPeriod(59)).isEqualTo(60_000);
    assertThat(SyntheticTrace.timerPeriod(500)).isEqualTo(60_000);
    assertThat(SyntheticTrace.rate(0.45)).isCloseTo(1, within(1e-9));
    assertThat(SyntheticTrace.rate(0.81)).isCloseTo(60, within(1e-9));
  }
}
