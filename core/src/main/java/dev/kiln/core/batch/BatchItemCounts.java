package dev.kiln.core.batch;

/** How many items of a job are in each state; {@link #uploaded} is their sum. */
public record BatchItemCounts(long pending, long running, long succeeded, long failed) {
  public long uploaded() {
    return pending + running + succeeded + failed;
  }

  public long settled() {
    return succeeded + failed;
  }
}
