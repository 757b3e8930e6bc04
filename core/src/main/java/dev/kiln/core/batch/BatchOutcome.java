package dev.kiln.core.batch;

/** What a runner reports about an item it claimed. */
public sealed interface BatchOutcome {
  long index();

  /** The function returned without error. */
  record Succeeded(long index, int attempts) implements BatchOutcome {}

  /** The function failed on every one of its attempts; the last error is kept. */
  record Failed(long index, int attempts, String errorType, String errorMessage) implements BatchOutcome {}

  /**
   * Handed back before it was settled (the job was paused or the node is stopping): pending again,
   * keeping the attempts it has used.
   */
  record Released(long index, int attempts) implements BatchOutcome {}
}
