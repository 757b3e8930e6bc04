package dev.kiln.api;

import java.io.IOException;
import java.io.OutputStream;
import java.util.function.Supplier;

/** Opens the real response stream only when the first byte is written (or on close). */
final class FirstWriteOutputStream extends OutputStream {
  private final Supplier<OutputStream> open;
  private OutputStream out;

  FirstWriteOutputStream(Supplier<OutputStream> open) {
    this.open = open;
  }

  private OutputStream out() {
    if (out == null) {
      out = open.get();
    }
    return out;
  }

  @Override
  public void write(int b) throws IOException {
    out().write(b);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    out().write(b, off, len);
  }

  @Override
  public void flush() throws IOException {
    if (out != null) {
      out.flush();
    }
  }

  @Override
  public void close() throws IOException {
    out().close();
  }
}
