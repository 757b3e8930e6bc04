package dev.kiln.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A server the bench starts as a separate process (Kiln, or the baseline hello server). Its output
 * is drained all the time; the last lines are kept for error messages, and WARN/ERROR lines are
 * collected so the bench can report what the server complained about during the run.
 */
final class ChildProcess {
  private static final int KEEP_LINES = 200;
  private static final int KEEP_COMPLAINTS = 40;

  private final String label;
  private final Process process;
  private final Deque<String> tail = new ArrayDeque<>();
  private final List<String> complaints = new ArrayList<>();
  private int complaintCount;
  private final CountDownLatch ready = new CountDownLatch(1);
  private final String readyMarker;
  private volatile String readyLine;

  private ChildProcess(String label, Process process, String readyMarker) {
    this.label = label;
    this.process = process;
    this.readyMarker = readyMarker;
    drain(process.getInputStream(), "out");
    drain(process.getErrorStream(), "err");
  }

  /** Starts a process and waits for a line containing {@code readyMarker} on stdout or stderr. */
  static ChildProcess startAndAwaitLine(String label, List<String> command, Path dir, String readyMarker,
      Duration timeout) {
    ChildProcess child = new ChildProcess(label, start(command, dir), readyMarker);
    child.await(timeout, () -> child.ready.getCount() == 0);
    return child;
  }

  /** Starts a process and waits until it accepts TCP connections on 127.0.0.1:port. */
  static ChildProcess startAndAwaitPort(String label, List<String> command, Path dir, int port, Duration timeout) {
    ChildProcess child = new ChildProcess(label, start(command, dir), null);
    child.await(timeout, () -> {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return true;
      } catch (IOException e) {
        return false;
      }
    });
    return child;
  }

  private static Process start(List<String> command, Path dir) {
    try {
      return new ProcessBuilder(command).directory(dir.toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + String.join(" ", command), e);
    }
  }

  private interface Check {
    boolean ok() throws InterruptedException;
  }

  private void await(Duration timeout, Check check) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (!check.ok()) {
        if (!process.isAlive()) {
          Thread.sleep(200); // let the drain threads catch the last lines
          throw new IllegalStateException(label + " exited with code " + process.exitValue()
              + " before it was ready. Its last output:\n" + lastOutput());
        }
        if (System.nanoTime() > deadline) {
          stop(Duration.ofSeconds(5));
          throw new IllegalStateException(label + " was not ready within " + timeout.toSeconds()
              + " s. Its last output:\n" + lastOutput());
        }
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop(Duration.ofSeconds(5));
      throw new IllegalStateException("interrupted while starting " + label, e);
    }
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String readyLine() {
    return readyLine;
  }

  synchronized String lastOutput() {
    return String.join("\n", tail);
  }

  /** WARN and ERROR lines the process printed (the first few) and how many there were. */
  synchronized List<String> complaints() {
    return List.copyOf(complaints);
  }

  synchronized int complaintCount() {
    return complaintCount;
  }

  /**
   * SIGTERM, then SIGKILL to the process and everything under it if it has not exited within
   * {@code grace}. Returns a note when it had to be killed, or null.
   */
  String stop(Duration grace) {
    if (!process.isAlive()) {
      return null;
    }
    List<ProcessHandle> under = process.descendants().toList();
    process.destroy();
    try {
      if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        return null;
      }
      under = new ArrayList<>(under);
      under.addAll(process.descendants().toList());
      process.destroyForcibly();
      under.forEach(ProcessHandle::destroyForcibly);
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      under.forEach(ProcessHandle::destroyForcibly);
    }
    return label + " did not exit within " + grace.toSeconds() + " s of SIGTERM; killed it and "
        + under.size() + " processes under it";
  }

  private void drain(InputStream stream, String name) {
    Thread.ofPlatform().daemon().name(label + "-" + name).start(() -> {
      try (var reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          record(name + "| " + line);
          if (readyMarker != null && line.contains(readyMarker)) {
            readyLine = line.trim();
            ready.countDown();
          }
        }
      } catch (IOException ignored) {
        // the process is gone
      }
    });
  }

  private synchronized void record(String line) {
    tail.addLast(line);
    if (tail.size() > KEEP_LINES) {
      tail.removeFirst();
    }
    if (line.contains(" WARN ") || line.contains(" ERROR ") || line.contains("Exception")) {
      complaintCount++;
      if (complaints.size() < KEEP_COMPLAINTS) {
        complaints.add(line);
      }
    }
  }
}
