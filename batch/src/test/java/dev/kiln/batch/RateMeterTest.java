package dev.kiln.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class RateMeterTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void countsOverTheTimeSoFarThenOverTheLastTenSeconds() {
    var meter = new RateMeter(0);
    assertThat(meter.perSecond(0)).isZero();
    meter.add(50, SECOND / 2);
    assertThat(meter.perSecond(SECOND / 2)).as("less than a second counts as one").isEqualTo(50.0);
    meter.add(50, SECOND + 1);
    assertThat(meter.perSecond(2 * SECOND)).isCloseTo(50.0, within(0.01));
    for (int s = 2; s < 30; s++) {
      meter.add(10, s * SECOND);
    }
    assertThat(meter.perSecond(30 * SECOND)).as("only the last ten seconds").isCloseTo(9.0, within(1.01));
    assertThat(meter.perSecond(60 * SECOND)).as("nothing lately").isZero();
  }
}
