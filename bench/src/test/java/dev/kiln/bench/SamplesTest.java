package dev.kiln.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SamplesTest {
  @Test
  void nearestRankPercentilesOfOneToHundred() {
    Samples s = new Samples(4);
    for (int i = 100; i >= 1; i--) {
      s.add(i);
    }
    assertThat(s.size()).isEqualTo(100);
    assertThat(s.percentile(50)).isEqualTo(50);
    assertThat(s.percentile(99)).isEqualTo(99);
    assertThat(s.percentile(99.9)).isEqualTo(100);
    assertThat(s.percentile(1)).isEqualTo(1);
    assertThat(s.percentile(0.001)).isEqualTo(1);
    assertThat(s.max()).isEqualTo(100);
    assertThat(s.mean()).isEqualTo(50.5);
  }

  @Test
  void smallSamplesUseTheNearestRankNotInterpolation() {
    Samples s = new Samples();
    s.add(10);
    s.add(30);
    s.add(20);
    assertThat(s.percentile(50)).isEqualTo(20);
    assertThat(s.percentile(99)).isEqualTo(30);
    assertThat(s.percentile(33)).isEqualTo(10);
    assertThat(s.percentile(34)).isEqualTo(20);
  }

  @Test
  void addingAfterAPercentileResorts() {
    Samples s = new Samples();
    s.add(5);
    assertThat(s.percentile(50)).isEqualTo(5);
    s.add(1);
    s.add(3);
    assertThat(s.percentile(50)).isEqualTo(3);
    Samples all = new Samples();
    all.addAll(s);
    all.add(7);
    assertThat(all.percentile(100)).isEqualTo(7);
    assertThat(all.percentile(25)).isEqualTo(1);
  }

  @Test
  void emptyIsNaNAndBadPercentilesAreRefused() {
    assertThat(new Samples().percentile(50)).isNaN();
    assertThatThrownBy(() -> new Samples().percentile(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Samples().percentile(101)).isInstanceOf(IllegalArgumentException.class);
  }
}
