package dev.kiln.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The built {@code kiln} command ({@code java -jar cli/target/kiln.jar ...}) run as a user runs it,
 * against one server: its endpoint in KILN_ENDPOINT and the keys in AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY, nothing else from the test's environment.
 */
public final class KilnCli {
  private final String endpoint;
  private final String accessKey;
  private final String secretKey;
  private final Path workDir;

  public KilnCli(String endpoint, String accessKey, String secretKey, Path workDir) {
    this.endpoint = endpoint;
    this.accessKey = accessKey;
    this.secretKey = secretKey;
    this.workDir = workDir;
  }

  /** What one run printed and how it ended. */
  public record Run(int exitCode, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
    }
  }

  /** A started command; its output goes to files so it can be read while it runs and after it was killed. */
  public record Started(Process process, Path stdout, Path stderr) {
    public String out() {
      return read(stdout);
    }

    public String err() {
      return read(stderr);
    }

    /** Waits for the exit (bounded) and returns what it printed. */
    public Run await(Duration timeout) {
      try {
        assertThat(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
            .as("kiln exits within %s; so far:\n%s\n%s", timeout, out(), err()).isTrue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return new Run(process.exitValue(), out(), err());
    }

    private static String read(Path file) {
      try {
        return Files.readString(file, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Runs {@code kiln ARGS...} to the end (at most a minute). */
  public Run run(String... args) {
    return run(Duration.ofSeconds(60), args);
  }

  /** Runs {@code kiln ARGS...} to the end (at most {@code timeout}). */
  public Run run(Duration timeout, String... args) {
    Started started = start(args);
    try {
      return started.await(timeout);
    } finally {
      started.process().destroyForcibly();
    }
  }

  /** Starts {@code kiln ARGS...} and returns at once. */
  public Started start(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(KilnServer.jar().toString());
    command.addAll(List.of(args));
    String id = UUID.randomUUID().toString().substring(0, 8);
    Path stdout = workDir.resolve("kiln-" + id + ".out");
    Path stderr = workDir.resolve("kiln-" + id + ".err");
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(workDir.toFile())
        .redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("KILN_"));
    builder.environment().put("AWS_ACCESS_KEY_ID", accessKey);
    builder.environment().put("AWS_SECRET_ACCESS_KEY", secretKey);
    builder.environment().put("KILN_ENDPOINT", endpoint);
    try {
      return new Started(builder.start(), stdout, stderr);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + command, e);
    }
  }
}
