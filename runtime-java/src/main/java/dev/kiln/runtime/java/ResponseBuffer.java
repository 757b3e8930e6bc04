package dev.kiln.runtime.java;

import java.io.ByteArrayOutputStream;

/** The handler's output for one invocation, reused between invocations without copying. */
final class ResponseBuffer extends ByteArrayOutputStream {
  ResponseBuffer() {
    super(8192);
  }

  byte[] array() {
    return buf;
  }

  /** Drops a large buffer after a large response so one big invocation does not pin the memory. */
  void recycle() {
    if (buf.length > 1 << 20) {
      buf = new byte[8192];
    }
    reset();
  }
}
