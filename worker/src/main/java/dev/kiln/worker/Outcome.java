package dev.kiln.worker;

/** How the runtime (or the platform) ended one invocation. */
sealed interface Outcome {
  /** The runtime posted a response; {@code body} is empty when it was streamed to the caller. */
  record Response(byte[] body) implements Outcome {}

  /** The runtime reported an error (handler or init), with its error document. */
  record FunctionError(String errorType, byte[] body) implements Outcome {}

  /** The environment failed under the invocation: timeout, crash, out of memory. It is retired. */
  record EnvironmentFailure(String errorType, String message, String logLine) implements Outcome {}
}
