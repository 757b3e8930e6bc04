package dev.kiln.bench;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What must be undone when the bench ends, fails or is interrupted (Ctrl-C runs the JVM's shutdown
 * hooks): actions run once, newest first.
 */
final class Cleanup {
  private final Deque<Runnable> actions = new ArrayDeque<>();
  private boolean done;

  Cleanup() {
    Runtime.getRuntime().addShutdownHook(new Thread(this::run, "kiln-bench-cleanup"));
  }

  synchronized void add(Runnable action) {
    actions.push(action);
  }

  synchronized void run() {
    if (done) {
      return;
    }
    done = true;
    while (!actions.isEmpty()) {
      try {
        actions.pop().run();
      } catch (RuntimeException e) {
        System.err.println("kiln-bench: cleanup step failed: " + e);
      }
    }
  }

  /**
   * Deletes a directory tree, but never one with a mount point inside it (a sandbox root left
   * behind by a killed server could bind-mount host directories there).
   */
  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    String prefix = root.toAbsolutePath().normalize() + "/";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
        String[] f = line.split(" ");
        if (f.length > 1 && (f[1] + "/").startsWith(prefix)) {
          System.err.println("kiln-bench: not deleting " + root + ": " + f[1] + " is still mounted");
          return;
        }
      }
    } catch (IOException e) {
      // no /proc/self/mounts: not Linux, nothing can be mounted there by Kiln
    }
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException exc) {
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
          Files.deleteIfExists(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      System.err.println("kiln-bench: could not delete all of " + root + ": " + e);
    }
  }
}
