package dev.kiln.warming;

/**
 * Counts of a function's idle times in fixed-width bins, plus one count for idle times beyond the
 * last bin. Percentiles are answered at bin granularity. Older samples fade: once the total reaches
 * {@link #decayAt} every count is halved, so a function whose pattern changes is relearned within a
 * few thousand invocations without keeping a window of samples.
 *
 * <p>Not thread-safe: {@link InvocationHistory} guards it.
 */
public final class IdleTimeHistogram {
  /** Returned by the percentile methods when the percentile lies beyond the last bin. */
  public static final long BEYOND_RANGE = -1;

  private final long binMillis;
  private final int[] counts;
  private final long decayAt;
  private long beyondRange;
  private long total;

  public IdleTimeHistogram(long binMillis, int bins, long decayAt) {
    if (binMillis <= 0 || bins <= 0 || decayAt < 2) {
      throw new IllegalArgumentException("bins need a positive width and count, and decay a total of 2 or more");
    }
    this.binMillis = binMillis;
    this.counts = new int[bins];
    this.decayAt = decayAt;
  }

  public void add(long idleMillis) {
    long bin = Math.max(0, idleMillis) / binMillis;
    if (bin >= counts.length) {
      beyondRange++;
    } else {
      counts[(int) bin]++;
    }
    if (++total >= decayAt) {
      halve();
    }
  }

  private void halve() {
    total = 0;
    for (int i = 0; i < counts.length; i++) {
      // Rounded up, so a bin seen once is not forgotten outright.
      counts[i] = (counts[i] + 1) >> 1;
      total += counts[i];
    }
    beyondRange = (beyondRange + 1) >> 1;
    total += beyondRange;
  }

  public long total() {
    return total;
  }

  public long beyondRange() {
    return beyondRange;
  }

  public long binMillis() {
    return binMillis;
  }

  public int bins() {
    return counts.length;
  }

  /** How far the histogram reaches: idle times at least this long count as beyond range. */
  public long rangeMillis() {
    return binMillis * counts.length;
  }

  public int count(int bin) {
    return counts[bin];
  }

  /**
   * The start of the bin holding the {@code percentile}-th idle time (0 < percentile ≤ 100), or
   * {@link #BEYOND_RANGE}. Rounding down suits a pre-warm: it never starts later than the bin allows.
   */
  public long percentileLowerEdge(double percentile) {
    int bin = percentileBin(percentile);
    return bin < 0 ? BEYOND_RANGE : bin * binMillis;
  }

  /** The end of the bin holding the {@code percentile}-th idle time, or {@link #BEYOND_RANGE}. */
  public long percentileUpperEdge(double percentile) {
    int bin = percentileBin(percentile);
    return bin < 0 ? BEYOND_RANGE : (bin + 1) * binMillis;
  }

  private int percentileBin(double percentile) {
    if (total == 0) {
      throw new IllegalStateException("an empty histogram has no percentiles");
    }
    if (!(percentile > 0 && percentile <= 100)) {
      throw new IllegalArgumentException("percentile must be in (0, 100]: " + percentile);
    }
    long rank = (long) Math.ceil(percentile / 100 * total);
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Coefficient of variation of the in-range bin counts. A few tall bins (a clear pattern) give a
   * high value; counts spread evenly over many bins give a low one. Zero when no idle time is in range.
   */
  public double binCountVariation() {
    long inRange = total - beyondRange;
    if (inRange == 0) {
      return 0;
    }
    double mean = (double) inRange / counts.length;
    double squares = 0;
    for (int count : counts) {
      double d = count - mean;
      squares += d * d;
    }
    return Math.sqrt(squares / counts.length) / mean;
  }
}
