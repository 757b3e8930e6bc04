package dev.kiln.sandbox;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/** Splits a byte stream into UTF-8 lines (without the line end), cutting lines longer than {@link #MAX_LINE}. */
final class LineSplitter {
  static final int MAX_LINE = 256 * 1024;

  private LineSplitter() {}

  /** Reads {@code in} to its end, passing each line to {@code sink}; a last line without newline too. */
  static void pump(InputStream in, Consumer<String> sink) throws IOException {
    pump(in, sink, new ReadState());
  }

  /** Where the pump is: in a read since when, so a reader can tell that earlier output was delivered. */
  static final class ReadState {
    volatile boolean reading;
    volatile long readEnteredNanos;
  }

  static void pump(InputStream in, Consumer<String> sink, ReadState state) throws IOException {
    byte[] buf = new byte[16 * 1024];
    var line = new ByteArrayOutputStream(256);
    int n;
    while (true) {
      state.readEnteredNanos = System.nanoTime();
      state.reading = true;
      n = in.read(buf);
      state.reading = false;
      if (n <= 0) {
        break;
      }
      int start = 0;
      for (int i = 0; i < n; i++) {
        if (buf[i] == '\n') {
          line.write(buf, start, i - start);
          emit(line, sink);
          start = i + 1;
        } else if (line.size() + (i - start) >= MAX_LINE) {
          line.write(buf, start, i - start);
          emit(line, sink);
          start = i;
        }
      }
      line.write(buf, start, n - start);
    }
    if (line.size() > 0) emit(line, sink);
  }

  private static void emit(ByteArrayOutputStream line, Consumer<String> sink) {
    int len = line.size();
    byte[] bytes = line.toByteArray();
    if (len > 0 && bytes[len - 1] == '\r') len--;
    sink.accept(new String(bytes, 0, len, StandardCharsets.UTF_8));
    line.reset();
  }
}
