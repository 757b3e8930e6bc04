package dev.kiln.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Small operating-system helpers: finding programs, running short commands, signals, deleting trees. */
final class Os {
  /** PATH given to helper commands Kiln runs itself (never the JVM's). */
  static final String HELPER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private Os() {}

  static boolean isLinux() {
    return System.getProperty("os.name", "").toLowerCase().contains("linux");
  }

  static int uid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The executable {@code name} on the JVM's PATH or the usual system directories. */
  static Optional<Path> which(String name) {
    var dirs = new ArrayList<String>();
    String path = System.getenv("PATH");
    if (path != null) dirs.addAll(List.of(path.split(":")));
    dirs.addAll(List.of(HELPER_PATH.split(":")));
    for (String d : dirs) {
      if (d.isEmpty()) continue;
      Path p = Path.of(d, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p);
    }
    return Optional.empty();
  }

  record Result(int code, String output) {}

  /** Runs a short helper command with a clean environment; output is stdout and stderr together. */
  static Result run(List<String> command, long timeoutMillis) {
    var pb = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.clear();
    env.put("PATH", HELPER_PATH);
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "timed out: " + String.join(" ", command));
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }

  private static final Map<String, Integer> SIGNALS = Map.of("KILL", 9, "STOP", 19, "CONT", 18, "TERM", 15);

  /** Sends {@code signal} (e.g. "KILL", "STOP") to the given process ids; negative ids are process groups. */
  static void signal(String signal, List<Long> pids) {
    if (pids.isEmpty()) return;
    Integer number = SIGNALS.get(signal);
    if (number != null && NetNs.nativeCallsAvailable()) {
      for (long pid : pids) NetNs.kill(pid, number);
      return;
    }
    var cmd = new ArrayList<String>(List.of("kill", "-s", signal, "--"));
    for (long pid : pids) cmd.add(Long.toString(pid));
    run(cmd, 5_000);
  }

  /** SIGKILL through the JDK (no helper process); false when the process is already gone. */
  static boolean kill(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false);
  }

  /** Deletes a directory tree without following symbolic links; a missing tree is fine. */
  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
        throw e;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        if (e != null && !(e instanceof NoSuchFileException)) throw e;
        Files.deleteIfExists(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  static void deleteTreeQuietly(Path root) {
    try {
      deleteTree(root);
    } catch (IOException | UncheckedIOException e) {
      org.slf4j.LoggerFactory.getLogger(Os.class).warn("could not delete {}: {}", root, e.toString());
    }
  }

  /** Makes a directory the sandbox user's own (uid and gid 65534, mode 0700) when we are root, else ours to write. */
  static void handToSandboxUser(Path dir) throws IOException {
    if (uid() == 0) {
      Files.setAttribute(dir, "unix:uid", 65534);
      Files.setAttribute(dir, "unix:gid", 65534);
    }
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
