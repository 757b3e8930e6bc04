package dev.kiln.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A sandbox's {@code /tmp} seen from the host (the tests run as root): {@code /proc/PID/root/tmp} of any process
 * shows that process's own {@code /tmp}, whatever mount namespace it is in. A probe in flight leaves a beacon file
 * there; the test finds it (which also says the probe's request id) and can overwrite it to release the probe.
 */
public final class SandboxTmp {
  /** A process whose /tmp holds the file, and the file's content. */
  public record Found(long pid, String name, String content) {
    /**
     * Replaces the file's content. (Creating a file would not do: in a forked environment's user namespace the
     * host's root has no mapped uid to own it, and the kernel refuses with EOVERFLOW.)
     */
    public void overwrite(String newContent) {
      try {
        Files.writeString(Path.of("/proc", Long.toString(pid), "root", "tmp", name), newContent,
            StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private SandboxTmp() {}

  /** A process whose /tmp holds a non-empty file {@code name}, if any. */
  public static Optional<Found> find(String name) throws IOException {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
        Path file = proc.resolve("root/tmp").resolve(name);
        try {
          String content = Files.readString(file, StandardCharsets.UTF_8);
          if (!content.isEmpty()) {
            return Optional.of(new Found(Long.parseLong(proc.getFileName().toString()), name, content));
          }
        } catch (IOException gone) {
          // not there, or the process ended meanwhile
        }
      }
    }
    return Optional.empty();
  }
}
