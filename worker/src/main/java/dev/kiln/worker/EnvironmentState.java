package dev.kiln.worker;

/**
 * The lifecycle of an execution environment. Every transition happens in {@link Environment} and is
 * counted in {@link WorkerStats}.
 *
 * <pre>
 * CREATED → INITIALIZING → IDLE ⇄ BUSY → RETIRED
 *                            ⇅
 *                          FROZEN
 * </pre>
 */
public enum EnvironmentState {
  CREATED,
  INITIALIZING,
  IDLE,
  BUSY,
  FROZEN,
  RETIRED
}
