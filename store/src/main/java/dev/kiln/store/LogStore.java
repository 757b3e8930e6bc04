package dev.kiln.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Function logs: one append-only stream per function, each record a line
 * {@code epochMillis TAB requestId TAB message}. A reader's position is a byte offset, so following
 * a stream is "read from where I stopped".
 */
public final class LogStore implements AutoCloseable {
  private static final int MAX_PAGE_BYTES = 1024 * 1024;

  /** One line a function printed (or a START/END/REPORT line), with the invocation it belongs to. */
  public record LogEvent(long timestamp, String requestId, String message) {}

  /** Events from a position and the position to continue from. */
  public record LogPage(List<LogEvent> events, long nextPosition) {}

  /** Open append channels beyond this are closed again: one per function that logged recently. */
  private static final int MAX_OPEN_FILES = 256;

  private final Path root;
  /** Opening the file per invocation was a seventh of Kiln's CPU per warm invoke, so writers stay open. */
  private final ConcurrentHashMap<Path, Appender> appenders = new ConcurrentHashMap<>();

  /** One log file's open channel and the lock that keeps each invocation's lines together. */
  private static final class Appender {
    final ReentrantLock lock = new ReentrantLock();
    FileChannel channel;
  }

  public LogStore(Path root) {
    this.root = root;
  }

  /** Appends one invocation's lines in a single write, so invocations never interleave. */
  public void append(String account, String function, String requestId, long timestamp, List<String> lines) {
    if (lines.isEmpty()) {
      return;
    }
    var text = new StringBuilder();
    for (var line : lines) {
      text.append(timestamp).append('\t').append(requestId).append('\t')
          .append(line.replace('\n', ' ').replace('\r', ' ')).append('\n');
    }
    var file = file(account, function);
    var appender = appenders.computeIfAbsent(file, f -> new Appender());
    appender.lock.lock();
    try {
      if (appender.channel == null || !appender.channel.isOpen()) {
        closeSomeIfTooMany(file);
        Files.createDirectories(file.getParent());
        appender.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
            StandardOpenOption.WRITE);
      }
      var buffer = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
      while (buffer.hasRemaining()) {
        appender.channel.write(buffer);
      }
    } catch (IOException e) {
      closeQuietly(appender);
      throw new UncheckedIOException("cannot write log of " + function, e);
    } finally {
      appender.lock.unlock();
    }
  }

  /** Closes other files' channels when too many are open; they reopen on their next append. */
  private void closeSomeIfTooMany(Path opening) {
    if (appenders.size() <= MAX_OPEN_FILES) {
      return;
    }
    for (var entry : appenders.entrySet()) {
      if (!entry.getKey().equals(opening) && entry.getValue().lock.tryLock()) {
        try {
          closeQuietly(entry.getValue());
          appenders.remove(entry.getKey(), entry.getValue());
        } finally {
          entry.getValue().lock.unlock();
        }
      }
      if (appenders.size() <= MAX_OPEN_FILES / 2) {
        return;
      }
    }
  }

  private static void closeQuietly(Appender appender) {
    if (appender.channel != null) {
      try {
        appender.channel.close();
      } catch (IOException ignored) {
        // Nothing was buffered: every append wrote straight to the file.
      }
      appender.channel = null;
    }
  }

  /** Closes the open files; appends after this reopen them. */
  @Override
  public void close() {
    for (var appender : appenders.values()) {
      appender.lock.lock();
      try {
        closeQuietly(appender);
      } finally {
        appender.lock.unlock();
      }
    }
  }

  /** Reads whole records from {@code position}; at most {@code limit} events. */
  public LogPage read(String account, String function, long position, int limit) {
    var file = file(account, function);
    if (!Files.exists(file)) {
      return new LogPage(List.of(), 0);
    }
    try (var channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      long start = Math.min(Math.max(position, 0), size);
      var buffer = ByteBuffer.allocate((int) Math.min(size - start, MAX_PAGE_BYTES));
      while (buffer.hasRemaining() && channel.read(buffer, start + buffer.position()) > 0) {
        // Fill the buffer from the file.
      }
      var bytes = buffer.array();
      var events = new ArrayList<LogEvent>();
      int lineStart = 0;
      for (int i = 0; i < buffer.position() && events.size() < limit; i++) {
        if (bytes[i] == '\n') {
          events.add(parse(new String(bytes, lineStart, i - lineStart, StandardCharsets.UTF_8)));
          lineStart = i + 1;
        }
      }
      return new LogPage(events, start + lineStart);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read log of " + function, e);
    }
  }

  /** The size of the stream: where a reader that only wants new events starts. */
  public long end(String account, String function) {
    try {
      var file = file(account, function);
      return Files.exists(file) ? Files.size(file) : 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static LogEvent parse(String line) {
    int first = line.indexOf('\t');
    int second = first < 0 ? -1 : line.indexOf('\t', first + 1);
    if (first < 0 || second < 0) {
      return new LogEvent(0, "", line);
    }
    long timestamp;
    try {
      timestamp = Long.parseLong(line.substring(0, first));
    } catch (NumberFormatException e) {
      timestamp = 0;
    }
    return new LogEvent(timestamp, line.substring(first + 1, second), line.substring(second + 1));
  }

  private Path file(String account, String function) {
    // Account ids and function names are validated ([0-9]{12}, [a-zA-Z0-9-_]+): safe as path parts.
    return root.resolve(account).resolve(function + ".log");
  }
}
