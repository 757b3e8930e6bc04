package dev.kiln.worker;

/** Receives a streamed function response chunk by chunk, in order, as the runtime sends it. */
public interface ResponseStream {
  void chunk(byte[] data);
}
