package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backend's root directory: its lock, one subdirectory per sandbox, and the cleanup of what an earlier,
 * crashed backend on the same root left behind.
 *
 * <p>Ownership: a backend holds an exclusive {@link FileLock} on {@code <root>/.lock} while open, so a
 * second Kiln process pointed at the same root fails fast instead of killing the first one's sandboxes.
 * The lock dies with the process, so after a {@code kill -9} the next backend gets it and cleans up. Inside
 * one JVM a new backend on a root whose previous backend was never closed takes the root over (the old one
 * is treated as crashed).
 */
final class RootDir {
  private static final Logger log = LoggerFactory.getLogger(RootDir.class);
  private static final Map<Path, FileChannel> HELD = new ConcurrentHashMap<>();
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  /** sun_path is 108 bytes with the NUL; leave room for "/<10-char id>/run/runtime.sock". */
  static final int MAX_ROOT_LENGTH = 107 - 1 - 10 - "/run/runtime.sock".length();
  static final String CRUN_STATE = ".crun";
  static final String ROOTFS = ".rootfs";
  static final String PIDS_FILE = "pids";
  /** The resolv.conf every sandbox of this root gets (see SandboxNetwork). */
  static final String RESOLV_CONF = ".resolv.conf";

  final Path path;
  /** Unique per root: names this root's cgroups, so backends on different roots never meet. */
  final String hash;
  private final FileChannel lockChannel;

  RootDir(Path root) {
    try {
      Files.createDirectories(root);
      this.path = root.toRealPath();
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new SandboxException("cannot create sandbox root " + root + ": " + e.getMessage(), e);
    }
    if (path.toString().length() > MAX_ROOT_LENGTH) {
      throw new SandboxException("sandbox root path is too long for Unix socket paths (" + path.toString().length()
          + " > " + MAX_ROOT_LENGTH + " characters): " + path + "; use a shorter data directory");
    }
    this.hash = sha256(path.toString()).substring(0, 12);
    this.lockChannel = lock();
  }

  private FileChannel lock() {
    FileChannel previous = HELD.remove(path);
    if (previous != null) {
      log.warn("taking over sandbox root {} from a backend in this JVM that was not closed", path);
      closeQuietly(previous);
    }
    try {
      FileChannel ch = FileChannel.open(path.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        ch.close();
        throw new SandboxException("sandbox root " + path + " is in use by another Kiln process");
      }
      HELD.put(path, ch);
      return ch;
    } catch (IOException e) {
      throw new SandboxException("cannot lock sandbox root " + path + ": " + e.getMessage(), e);
    }
  }

  void release() {
    HELD.remove(path, lockChannel);
    closeQuietly(lockChannel);
  }

  /** The cgroup path of this root's sandboxes, relative to a hierarchy's mount: kiln/<hash>. */
  String cgroupBase() {
    return "kiln/" + hash;
  }

  /** Creates a new, empty sandbox directory with a fresh id (mode 0700: only root reaches into it). */
  Path newSandboxDir() {
    for (int attempt = 0; ; attempt++) {
      var sb = new StringBuilder(10);
      for (int i = 0; i < 10; i++) sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
      Path dir = path.resolve(sb.toString());
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        return dir;
      } catch (java.nio.file.FileAlreadyExistsException e) {
        if (attempt > 10) throw new SandboxException("cannot pick a sandbox id under " + path);
      } catch (IOException e) {
        throw new SandboxException("cannot create sandbox directory under " + path + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Removes what an earlier backend on this root left: kills the processes of its sandboxes (crun ones
   * through their cgroups, plain ones through the process-group ids they recorded), deletes crun's state
   * and every sandbox directory.
   *
   * @param crun the crun executable and the unshare wrapper to delete crun's records with, or null
   */
  void cleanupStale(Map<String, Path> cgroupMounts, List<String> crunDelete) {
    int groups = cgroupMounts.isEmpty() ? 0 : CgroupV1.destroyAllUnder(cgroupMounts, cgroupBase());
    int dirs = 0;
    Path state = path.resolve(CRUN_STATE);
    if (crunDelete != null && Files.isDirectory(state)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(state, Files::isDirectory)) {
        for (Path c : ds) {
          var cmd = new java.util.ArrayList<>(crunDelete);
          cmd.add(c.getFileName().toString());
          Os.run(cmd, 10_000);
        }
      } catch (IOException ignored) {
        // nothing there
      }
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(path)) {
      for (Path d : ds) {
        String name = d.getFileName().toString();
        if (name.equals(".lock") || name.equals(ROOTFS)) continue;
        if (!name.startsWith(".")) {
          dirs++;
          killRecordedProcesses(d.resolve(PIDS_FILE));
        }
        Os.deleteTreeQuietly(d);
      }
    } catch (IOException e) {
      log.warn("could not list sandbox root {}: {}", path, e.toString());
    }
    if (groups > 0 || dirs > 0) {
      log.info("removed {} sandbox(es) left under {} by an earlier run ({} cgroup(s))", dirs, path, groups);
    }
  }

  /** Process backend: the file holds "pid startMillis"; that process's group is killed if it still runs. */
  static void writePidsFile(Path file, ProcessHandle process) throws IOException {
    long start = process.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
    Files.writeString(file, process.pid() + " " + start + "\n");
  }

  private static void killRecordedProcesses(Path file) {
    if (!Files.isRegularFile(file)) return;
    try {
      String[] parts = Files.readString(file, StandardCharsets.US_ASCII).trim().split("\\s+");
      long pid = Long.parseLong(parts[0]);
      long start = Long.parseLong(parts[1]);
      ProcessHandle.of(pid).ifPresent(ph -> {
        long actual = ph.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(-1L);
        if (actual == start) {
          var victims = new java.util.ArrayList<Long>();
          victims.add(-pid); // the whole process group (the sandbox's idle shell, socat, the runtime)
          ph.descendants().forEach(d -> victims.add(d.pid()));
          Os.signal("KILL", victims);
          Os.kill(pid);
        }
      });
    } catch (IOException | RuntimeException e) {
      log.debug("stale pids file {}: {}", file, e.toString());
    }
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }
}
