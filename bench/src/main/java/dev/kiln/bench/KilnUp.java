package dev.kiln.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A bench's own Kiln server: {@code kiln up} from a server jar as a child process the bench's cleanup stops. */
final class KilnUp {
  private KilnUp() {}

  /**
   * {@code kiln up} of {@code jar}, run by this JVM's java, on a free port of 127.0.0.1 with dev credentials and its
   * data in {@code data}, followed by {@code options}.
   */
  static List<String> command(Path jar, Path data, List<String> options) {
    String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    var command = new ArrayList<>(List.of(java, "-jar", jar.toString(), "up", "--host", "127.0.0.1",
        "--port", String.valueOf(InvokeBench.freePort()), "--data-dir", data.toString(), "--dev-credentials"));
    command.addAll(options);
    return command;
  }

  /**
   * Starts {@code command} in {@code work} and waits up to 90 s for Kiln to say it is ready; {@code cleanup} stops it,
   * printing any note about the stop to stderr after {@code bench}'s name.
   */
  static ChildProcess start(String label, List<String> command, Path work, Cleanup cleanup, String bench) {
    ChildProcess kiln = ChildProcess.startAndAwaitLine(label, command, work, "Kiln is ready at", Duration.ofSeconds(90));
    cleanup.add(() -> {
      String note = kiln.stop(Duration.ofSeconds(30));
      if (note != null) {
        System.err.println(bench + ": " + note);
      }
    });
    return kiln;
  }
}
