package dev.kiln.worker;

/** Receives a streamed function response chunk by chunk, in order, as the runtime sends it. */
public interface ResponseStream {
  void chunk(byte[] data);

  /**
   * Called once, before the first chunk, with the media type the runtime declared for the stream
   * (an HTTP integration response, for example), or null when it declared none.
   */
  default void contentType(String contentType) {}
}
