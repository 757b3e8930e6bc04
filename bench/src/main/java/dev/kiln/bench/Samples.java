package dev.kiln.bench;

import java.util.Arrays;

/**
 * A growable list of latency samples in nanoseconds and their percentiles (nearest rank: the
 * smallest sample with at least p% of the samples at or below it, as HdrHistogram and most load
 * tools report).
 */
final class Samples {
  private long[] values;
  private int size;
  private boolean sorted = true;

  Samples() {
    this(1024);
  }

  Samples(int capacity) {
    values = new long[Math.max(16, capacity)];
  }

  void add(long nanos) {
    if (size == values.length) {
      values = Arrays.copyOf(values, values.length * 2);
    }
    values[size++] = nanos;
    sorted = false;
  }

  void addAll(Samples other) {
    for (int i = 0; i < other.size; i++) {
      add(other.values[i]);
    }
  }

  int size() {
    return size;
  }

  /** The p-th percentile (0 &lt; p &le; 100) by nearest rank, or NaN when there are no samples. */
  double percentile(double p) {
    if (p <= 0 || p > 100) {
      throw new IllegalArgumentException("percentile must be in (0, 100]: " + p);
    }
    if (size == 0) {
      return Double.NaN;
    }
    sort();
    int rank = (int) Math.ceil(p / 100.0 * size);
    return values[Math.max(1, rank) - 1];
  }

  double mean() {
    if (size == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (int i = 0; i < size; i++) {
      sum += values[i];
    }
    return sum / size;
  }

  double max() {
    return size == 0 ? Double.NaN : percentile(100);
  }

  private void sort() {
    if (!sorted) {
      Arrays.sort(values, 0, size);
      sorted = true;
    }
  }
}
