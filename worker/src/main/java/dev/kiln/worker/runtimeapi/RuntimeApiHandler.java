package dev.kiln.worker.runtimeapi;

import java.io.IOException;

/**
 * The Lambda Runtime API as one execution environment serves it. The server parses HTTP and calls
 * these; the environment decides what each call means for the invocation in flight.
 */
public interface RuntimeApiHandler {

  /**
   * Blocks until this environment is given an invocation (the runtime waits without timeout);
   * null refuses the call (an invocation is already in flight).
   */
  NextInvocation next() throws InterruptedException;

  /** The reply to GET /next could not be written: the invocation must go to the next caller. */
  default void undelivered(NextInvocation next) {}

  /** A buffered response of {@code length} bytes, read by {@code body} only if the handler accepts it. */
  RuntimeReply response(String requestId, long length, BodyReader body) throws IOException;

  /** A streamed response (Lambda-Runtime-Function-Response-Mode: streaming), read chunk by chunk. */
  RuntimeReply streamingResponse(String requestId, ChunkReader chunks) throws IOException;

  RuntimeReply error(String requestId, String errorType, byte[] body);

  RuntimeReply initError(String errorType, byte[] body);

  /** Reads a fixed-length body once; returns null if it exceeds {@code limit} (the bytes are skipped). */
  @FunctionalInterface
  interface BodyReader {
    byte[] read(long limit) throws IOException;
  }

  /** Reads a chunked body: {@link #next} returns null after the last chunk, then {@link #trailer} works. */
  interface ChunkReader {
    byte[] next() throws IOException;

    String trailer(String name);

    /** The Content-Type the runtime sent with the body, or null. */
    default String contentType() {
      return null;
    }
  }
}
