package dev.kiln.warming;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class IdleTimeHistogramTest {
  private static final long MINUTE = 60_000;

  private static IdleTimeHistogram minutes() {
    return new IdleTimeHistogram(MINUTE, 240, 1_000_000);
  }

  @Test
  void percentilesAreAnsweredAtTheEdgesOfTheirBins() {
    var histogram = minutes();
    // 100 idle times: 1 at 0:30, 94 at 10:xx, 5 at 42:00.
    histogram.add(30_000);
    for (int i = 0; i < 94; i++) {
      histogram.add(10 * MINUTE + i * 500);
    }
    for (int i = 0; i < 5; i++) {
      histogram.add(42 * MINUTE);
    }
    assertThat(histogram.total()).isEqualTo(100);
    // The 1st idle time is in bin 0; the 5th already in bin 10.
    assertThat(histogram.percentileLowerEdge(1)).isZero();
    assertThat(histogram.percentileLowerEdge(5)).isEqualTo(10 * MINUTE);
    assertThat(histogram.percentileUpperEdge(95)).isEqualTo(11 * MINUTE);
    assertThat(histogram.percentileUpperEdge(96)).isEqualTo(43 * MINUTE);
    assertThat(histogram.percentileUpperEdge(100)).isEqualTo(43 * MINUTE);
  }

  @Test
  void idleTimesBeyondTheRangeMakeHighPercentilesUnknown() {
    var histogram = minutes();
    for (int i = 0; i < 98; i++) {
      histogram.add(5 * MINUTE);
    }
    histogram.add(240 * MINUTE);
    histogram.add(600 * MINUTE);
    assertThat(histogram.beyondRange()).isEqualTo(2);
    assertThat(histogram.rangeMillis()).isEqualTo(240 * MINUTE);
    assertThat(histogram.percentileUpperEdge(98)).isEqualTo(6 * MINUTE);
    assertThat(histogram.percentileUpperEdge(99)).isEqualTo(IdleTimeHistogram.BEYOND_RANGE);
    assertThat(histogram.percentileLowerEdge(99.5)).isEqualTo(IdleTimeHistogram.BEYOND_RANGE);
  }

  @Test
  void negativeIdleTimesCountAsZero() {
    var histogram = minutes();
    histogram.add(-5);
    assertThat(histogram.count(0)).isEqualTo(1);
  }

  @Test
  void variationIsHighForOneTallBinAndLowForAnEvenSpread() {
    var concentrated = minutes();
    for (int i = 0; i < 240; i++) {
      concentrated.add(30 * MINUTE + 1000);
    }
    // One bin holds everything: mean 1, standard deviation sqrt(239).
    assertThat(concentrated.binCountVariation()).isCloseTo(Math.sqrt(239), within(1e-9));

    var even = minutes();
    for (int i = 0; i < 240; i++) {
      even.add(i * MINUTE);
    }
    assertThat(even.binCountVariation()).isCloseTo(0, within(1e-9));

    var empty = minutes();
    assertThat(empty.binCountVariation()).isZero();
  }

  @Test
  void oldSamplesFadeByHalvingOnceTheTotalIsReached() {
    var histogram = new IdleTimeHistogram(MINUTE, 10, 100);
    for (int i = 0; i < 99; i++) {
      histogram.add(MINUTE);
    }
    histogram.add(20 * MINUTE);
    // 99 in bin 1 and 1 beyond range became 50 and 1 (rounded up).
    assertThat(histogram.count(1)).isEqualTo(50);
    assertThat(histogram.beyondRange()).isEqualTo(1);
    assertThat(histogram.total()).isEqualTo(51);
    // A new pattern now outweighs the faded old one sooner.
    for (int i = 0; i < 49; i++) {
      histogram.add(5 * MINUTE);
    }
    assertThat(histogram.percentileLowerEdge(60)).isEqualTo(5 * MINUTE);
  }

  @Test
  void refusesNonsense() {
    assertThatThrownBy(() -> minutes().percentileLowerEdge(50)).isInstanceOf(IllegalStateException.class);
    var histogram = minutes();
    histogram.add(1);
    assertThatThrownBy(() -> histogram.percentileLowerEdge(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> histogram.percentileLowerEdge(101)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new IdleTimeHistogram(0, 10, 10)).isInstanceOf(IllegalArgumentException.class);
  }
}
