package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs {@link CrashingWriter} in a separate JVM on this test's class path and kills it with SIGKILL. */
final class ChildJvm {
  private ChildJvm() {}

  /** Starts the child, waits for its acknowledgement, kills it -9 and returns the acknowledgement line. */
  static String runAndKill(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(CrashingWriter.class.getName());
    command.addAll(List.of(args));
    Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      var reader = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      var acknowledgement = CompletableFuture.supplyAsync(() -> {
        try {
          String line;
          while ((line = reader.readLine()) != null) {
            if (line.startsWith(CrashingWriter.ACKNOWLEDGED)) {
              return line;
            }
          }
          return null;
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      String line = acknowledgement.get(60, TimeUnit.SECONDS);
      assertThat(line).as("child acknowledged its write").isNotNull();
      return line;
    } finally {
      child.destroyForcibly(); // SIGKILL on Linux
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }
  }
}
