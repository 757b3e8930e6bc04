package dev.kiln.e2e.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One Kiln server process started from the built {@code cli/target/kiln.jar}, as a user starts it:
 * {@code java -jar kiln.jar up --host 127.0.0.1 --port P --data-dir DIR ...}.
 *
 * <p>Its stdout and stderr are drained continuously into one buffer that survives restarts, so a
 * failing test can print what the server said. Every process started here is also destroyed by a
 * JVM shutdown hook, so an aborted test run leaves nothing behind.
 */
public final class KilnServer implements AutoCloseable {
  public static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "kiln-e2e-reaper"));
  }

  private final Path dataDir;
  private final int port;
  private final List<String> extraArgs;
  private final StringBuffer output = new StringBuffer();
  private Process process;
  private int starts;

  private KilnServer(Path dataDir, int port, List<String> extraArgs) {
    this.dataDir = dataDir;
    this.port = port;
    this.extraArgs = List.copyOf(extraArgs);
  }

  /** Starts a server on a free port with its data under {@code dataDir}; waits until it is ready. */
  public static KilnServer start(Path dataDir, List<String> extraArgs) {
    for (int attempt = 1; ; attempt++) {
      KilnServer server = new KilnServer(dataDir, freePort(), extraArgs);
      try {
        server.startProcess();
        return server;
      } catch (IllegalStateException e) {
        // Another process may have taken the free port between our probe and the server's bind.
        boolean portTaken = server.output().contains("Address already in use");
        if (!portTaken || attempt == 3) {
          throw e;
        }
      }
    }
  }

  /** The jar under test: {@code -Dkiln.jar=...} or {@code ../cli/target/kiln.jar} from the e2e module. */
  public static Path jar() {
    String override = System.getProperty("kiln.jar");
    Path jar =
        override != null
            ? Path.of(override)
            : Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .resolve("../cli/target/kiln.jar");
    jar = jar.toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "The Kiln jar is missing at "
              + jar
              + ": build it first with `mvn -B -q install -DskipTests` from the repository root.");
    }
    return jar;
  }

  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** Everything the server printed so far, over all its runs. */
  public String output() {
    return output.toString();
  }

  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /**
   * SIGTERM and wait for the process to exit (kill -9 after 30 s). Returns whether it exited on
   * its own after the SIGTERM.
   */
  public boolean stop() {
    if (process == null) {
      return true;
    }
    boolean graceful = true;
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        graceful = false;
        note("did not exit 30 s after SIGTERM; killing it");
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    LIVE.remove(process);
    note("stopped (SIGTERM), exit code " + exitCode());
    process = null;
    return graceful;
  }

  /** kill -9: the server gets no chance to flush or clean up. */
  public void crash() {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    LIVE.remove(process);
    note("killed (SIGKILL)");
    process = null;
  }

  /** Starts the server again on the same port, data directory and store. */
  public void restart() {
    if (process != null) {
      throw new IllegalStateException("server is still running; stop() or crash() it first");
    }
    startProcess();
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      stop();
    }
  }

  private String exitCode() {
    try {
      return String.valueOf(process.exitValue());
    } catch (IllegalThreadStateException e) {
      return "(still running)";
    }
  }

  private void note(String line) {
    output.append("[kiln-e2e] ").append(line).append('\n');
  }

  private void startProcess() {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(List.of("up", "--host", "127.0.0.1", "--port", String.valueOf(port)));
    command.addAll(List.of("--data-dir", dataDir.toString()));
    command.addAll(extraArgs);
    starts++;
    note("start #" + starts + ": " + String.join(" ", command));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dataDir.toFile());
    String readyMarker = "Kiln is ready at http://127.0.0.1:" + port;
    CountDownLatch ready = new CountDownLatch(1);
    Process started;
    try {
      started = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + command, e);
    }
    LIVE.add(started);
    process = started;
    drain(started.getInputStream(), "out", readyMarker, ready);
    drain(started.getErrorStream(), "err", readyMarker, ready);
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    try {
      while (!ready.await(50, TimeUnit.MILLISECONDS)) {
        if (!started.isAlive()) {
          // Let the drain threads catch the last lines before reporting.
          Thread.sleep(200);
          throw new IllegalStateException(
              "Kiln exited with code " + started.exitValue() + " before it was ready.\n" + output());
        }
        if (System.nanoTime() > deadline) {
          started.destroyForcibly();
          LIVE.remove(started);
          process = null;
          throw new IllegalStateException(
              "Kiln did not print '" + readyMarker + "' within " + READY_TIMEOUT + ".\n" + output());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for Kiln", e);
    }
  }

  private void drain(InputStream stream, String name, String readyMarker, CountDownLatch ready) {
    Thread.ofPlatform()
        .daemon()
        .name("kiln-" + name + "-" + port)
        .start(
            () -> {
              try (var reader =
                  new java.io.BufferedReader(
                      new java.io.InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                  output.append(name).append("| ").append(line).append('\n');
                  if (line.contains(readyMarker)) {
                    ready.countDown();
                  }
                }
              } catch (IOException ignored) {
                // The process is gone.
              }
            });
  }
}
