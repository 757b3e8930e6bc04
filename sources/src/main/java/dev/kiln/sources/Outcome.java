package dev.kiln.sources;

/** How the function took one batch. */
public sealed interface Outcome {
  /** It returned normally; {@code payload} is its response. */
  record Succeeded(byte[] payload) implements Outcome {}

  /** It failed, or could not be invoked; the batch is to be delivered again. */
  record Failed(String reason) implements Outcome {}
}
