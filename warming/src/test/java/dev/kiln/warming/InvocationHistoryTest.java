package dev.kiln.warming;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class InvocationHistoryTest {
  private static final long MINUTE = 60_000;
  private final InvocationHistory history =
      HybridHistogramPolicy.Settings.defaults(Duration.ofMinutes(10)).newHistory();

  @Test
  void idleTimesAreRecordedPerConcurrencyLevel() {
    // Two overlapping invocations, then a pause of 3 minutes, then two overlapping again.
    history.arrived(0);
    history.arrived(10);
    assertThat(history.ended(1_000)).isEqualTo(2);
    assertThat(history.ended(2_000)).isEqualTo(1);
    history.arrived(2_000 + 3 * MINUTE);
    history.arrived(2_000 + 3 * MINUTE + 5 * MINUTE);
    // Level 1 waited 3 minutes; level 2 waited from 1 s to 8 minutes 2 s.
    assertThat(history.level(1).idleTimes.percentileLowerEdge(100)).isEqualTo(3 * MINUTE);
    assertThat(history.level(2).idleTimes.percentileLowerEdge(100)).isEqualTo(8 * MINUTE);
    assertThat(history.summary().levels()).isEqualTo(2);
  }

  @Test
  void theFirstUseOfALevelRecordsNothing() {
    history.arrived(0);
    history.arrived(1);
    history.arrived(2);
    assertThat(history.summary().recorded()).isZero();
    assertThat(history.summary().levels()).isZero();
  }

  @Test
  void busyPeriodStartsFeedTheBeatDetector() {
    for (int i = 0; i < 6; i++) {
      history.arrived(i * 5 * MINUTE);
      // An overlapping invocation is not the start of a busy period.
      history.arrived(i * 5 * MINUTE + 2 * MINUTE);
      history.ended(i * 5 * MINUTE + 3 * MINUTE);
      history.ended(i * 5 * MINUTE + 3 * MINUTE);
    }
    assertThat(history.summary().periodMillis()).isEqualTo(5 * MINUTE);
  }

  @Test
  void anEndWithoutAnArrivalIsIgnored() {
    assertThat(history.ended(5)).isEqualTo(1);
    history.arrived(MINUTE);
    assertThat(history.summary().recorded()).isZero();
  }

  @Test
  void deepLevelsShareTheLastHistogram() {
    int deep = InvocationHistory.MAX_LEVELS + 5;
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < deep; i++) {
        history.arrived(round * MINUTE + i);
      }
      for (int i = 0; i < deep; i++) {
        history.ended(round * MINUTE + 100 + i);
      }
    }
    assertThat(history.level(deep)).isSameAs(history.level(InvocationHistory.MAX_LEVELS));
    assertThat(history.level(InvocationHistory.MAX_LEVELS).idleTimes.total()).isEqualTo(6);
  }
}
