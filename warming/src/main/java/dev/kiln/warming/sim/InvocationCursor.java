package dev.kiln.warming.sim;

/** Walks one function's invocations in arrival order, without holding them all in memory. */
public interface InvocationCursor {
  /** Moves to the next invocation; false when there is none. */
  boolean advance();

  /** When the current invocation arrives, in milliseconds from the start of the trace. */
  long arrivalMillis();

  /** How long the current invocation runs. */
  long durationMillis();
}
