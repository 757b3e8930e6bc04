package dev.kiln.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the built {@code kiln} command ({@code java -jar kiln.jar ARGS --endpoint URL}) as a user
 * would, with the keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and nothing else of this JVM's
 * AWS_* or KILN_* environment.
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
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
  }

  public Run run(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(KilnServer.jar().toString());
    command.addAll(List.of(args));
    command.add("--endpoint");
    command.add(endpoint);
    ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("KILN_"));
    builder.environment().put("AWS_ACCESS_KEY_ID", accessKey);
    builder.environment().put("AWS_SECRET_ACCESS_KEY", secretKey);
    try {
      Process process = builder.start();
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
      String out = read(process.getInputStream());
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("kiln " + String.join(" ", args) + " did not finish within 60 s");
      }
      return new Run(process.exitValue(), out, err.get(10, TimeUnit.SECONDS));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (Exception e) {
      throw new IllegalStateException("running kiln " + String.join(" ", args) + " failed", e);
    }
  }

  private static String read(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return e.toString();
    }
  }
}
