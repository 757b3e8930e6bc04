package dev.kiln.warming;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PeriodDetectorTest {
  private static final long MINUTE = 60_000;

  @Test
  void aTimerWithJitterIsABeat() {
    var detector = new PeriodDetector(9, 4);
    long[] jitter = {300, 1_200, 0, 2_500, 800, 1_900, 100, 600, 2_000};
    for (int i = 0; i < jitter.length; i++) {
      detector.record(1_000_000 + i * 15 * MINUTE + jitter[i]);
    }
    assertThat(detector.period()).isBetween(15 * MINUTE - 1_000, 15 * MINUTE + 1_000);
    assertThat(detector.spread()).isLessThan(3_000);
    assertThat(detector.lastStart()).isEqualTo(1_000_000 + 8 * 15 * MINUTE + 2_000);
  }

  @Test
  void aMissedTickDoesNotBreakTheBeat() {
    var detector = new PeriodDetector(9, 4);
    long[] ticks = {0, 1, 2, 4, 5, 6, 7};
    for (long tick : ticks) {
      detector.record(tick * 60 * MINUTE);
    }
    assertThat(detector.period()).isEqualTo(60 * MINUTE);
  }

  @Test
  void needsEnoughGapsBeforeBelievingABeat() {
    var detector = new PeriodDetector(9, 4);
    for (int i = 0; i < 4; i++) {
      detector.record(i * 10 * MINUTE);
    }
    assertThat(detector.period()).as("three gaps are not enough").isZero();
    detector.record(40 * MINUTE);
    assertThat(detector.period()).isEqualTo(10 * MINUTE);
  }

  @Test
  void randomArrivalsAreNoBeat() {
    var random = new SplittableRandom(7);
    int beats = 0;
    for (int trial = 0; trial < 200; trial++) {
      var detector = new PeriodDetector(9, 4);
      long clock = 0;
      for (int i = 0; i < 9; i++) {
        clock += (long) (-10 * MINUTE * Math.log(1 - random.nextDouble()));
        detector.record(clock);
      }
      beats += detector.period() > 0 ? 1 : 0;
    }
    assertThat(beats).as("Poisson arrivals taken for a timer").isZero();
  }

  @Test
  void aBeatFadesWhenTheArrivalsTurnIrregular() {
    var detector = new PeriodDetector(9, 4);
    for (int i = 0; i < 9; i++) {
      detector.record(i * 5 * MINUTE);
    }
    assertThat(detector.period()).isEqualTo(5 * MINUTE);
    detector.record(8 * 5 * MINUTE + 17 * 1000 * 60 / 10);
    assertThat(detector.period()).isZero();
  }

  @Test
  void beatsUnderAMinuteAreNotLookedFor() {
    var detector = new PeriodDetector(9, 4);
    for (int i = 0; i < 9; i++) {
      detector.record(i * 20_000L);
    }
    assertThat(detector.period()).isZero();
  }
}
