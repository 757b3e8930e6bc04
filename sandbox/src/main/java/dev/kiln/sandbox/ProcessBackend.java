package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Fallback sandboxes as plain child processes, for hosts without root or crun. There is no isolation:
 * a function runs as the Kiln user, sees the host's file system, processes and network. What it does get:
 * its own working directory with its code, its own process group, rlimits (RLIMIT_DATA ≈ memory, so
 * allocations fail rather than being OOM-killed; RLIMIT_NPROC; RLIMIT_NOFILE 1024; no core dumps),
 * SIGSTOP/SIGCONT for freeze/thaw, and the same Runtime API transport as crun: the JVM's relay from a free
 * port on 127.0.0.1 to the sandbox's Unix socket.
 *
 * <p>Paths: the worker speaks of {@code /var/task} and {@code /var/runtime} as in a crun sandbox. This
 * backend rewrites those prefixes, in the command's words and in the environment's values (wherever one
 * starts a value, a word, or an element of a {@code :}-separated list), to the sandbox's task directory and
 * the host's runtime directory; {@link ProcessSandbox#hostPath} does the same for one path.
 */
final class ProcessBackend implements SandboxBackend {
  final RootDir root;
  final Path runtimeDir;
  final Path prlimit;
  private final Set<ProcessSandbox> live = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile long userTasks = -1;
  private volatile long userTasksAt;

  ProcessBackend(Path root, Path runtimeDir) {
    this.prlimit = Os.which("prlimit").orElseThrow(() -> new SandboxException("prlimit (util-linux) is not installed"));
    if (runtimeDir != null && !Files.isDirectory(runtimeDir)) {
      throw new SandboxException("runtime directory does not exist: " + runtimeDir);
    }
    this.runtimeDir = runtimeDir == null ? null : runtimeDir.toAbsolutePath().normalize();
    this.root = new RootDir(root);
    Map<String, Path> cgroups = Os.uid() == 0 ? CgroupV1.mounts() : Map.of(); // a crun run may have preceded us
    this.root.cleanupStale(cgroups, null);
  }

  @Override
  public String name() {
    return "process";
  }

  @Override
  public Sandbox prepare(SandboxLimits limits) {
    if (closed.get()) throw new SandboxException("sandbox backend is closed");
    SandboxException last = null;
    for (int attempt = 0; attempt < 2; attempt++) {
      Path dir = root.newSandboxDir();
      ProcessSandbox sandbox;
      try {
        sandbox = new ProcessSandbox(this, dir, limits);
      } catch (RuntimeException e) {
        Os.deleteTreeQuietly(dir);
        throw e;
      }
      live.add(sandbox);
      try {
        sandbox.boot();
        if (closed.get()) {
          sandbox.close();
          throw new SandboxException("sandbox backend is closed");
        }
        return sandbox;
      } catch (SandboxException e) {
        sandbox.close();
        last = e;
      }
    }
    throw last;
  }

  void forget(ProcessSandbox sandbox) {
    live.remove(sandbox);
  }

  /**
   * RLIMIT_NPROC counts every task of the user, the Kiln JVM's threads included; as a limit for one sandbox
   * it must sit above what the user already runs. Root is not subject to it at all.
   */
  long nprocLimit(int maxPids) {
    if (Os.uid() == 0) return maxPids;
    long now = System.nanoTime();
    if (userTasks < 0 || now - userTasksAt > 5_000_000_000L) {
      userTasks = countUserTasks();
      userTasksAt = now;
    }
    return userTasks + maxPids;
  }

  private static long countUserTasks() {
    int uid = Os.uid();
    long count = 0;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
      for (Path p : ds) {
        try {
          if (((Integer) Files.getAttribute(p, "unix:uid")) != uid) continue;
          for (String line : Files.readAllLines(p.resolve("status"))) {
            if (line.startsWith("Threads:")) count += Long.parseLong(line.substring(8).trim());
          }
        } catch (IOException | RuntimeException ignored) {
          // gone
        }
      }
    } catch (IOException e) {
      return 4096;
    }
    return count;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    for (ProcessSandbox s : List.copyOf(live)) s.close();
    root.release();
  }
}
