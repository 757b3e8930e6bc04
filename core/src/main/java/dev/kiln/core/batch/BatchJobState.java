package dev.kiln.core.batch;

/**
 * Where a batch job is in its life: {@code Created} while its items are uploaded, {@code Running}
 * while the node invokes them (also across restarts), {@code Paused} when the user stopped it
 * (Ctrl-C in {@code kiln batch}), {@code Completed} once every item succeeded or failed for good.
 */
public enum BatchJobState {
  Created,
  Running,
  Paused,
  Completed
}
