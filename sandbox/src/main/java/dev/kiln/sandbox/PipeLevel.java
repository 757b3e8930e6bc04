package dev.kiln.sandbox;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many bytes wait unread in the pipe a child process writes its output to (ioctl FIONREAD on
 * this JVM's read end). The JDK does not expose the descriptor, so it is found by the pipe's inode:
 * the child's fd 1 and one of this process's fds name the same {@code pipe:[N]}.
 */
final class PipeLevel {
  private static final int FIONREAD = 0x541B;
  private static final MethodHandle IOCTL = ioctl();

  private final int fd;

  private PipeLevel(int fd) {
    this.fd = fd;
  }

  /** The level of the pipe behind {@code childPid}'s stdout, or null if it cannot be measured here. */
  static PipeLevel ofStdout(long childPid) {
    if (IOCTL == null) {
      return null;
    }
    try {
      var pipe = Files.readSymbolicLink(Path.of("/proc", Long.toString(childPid), "fd", "1")).toString();
      if (!pipe.startsWith("pipe:")) {
        return null;
      }
      try (var fds = Files.list(Path.of("/proc/self/fd"))) {
        for (var fd : fds.toList()) {
          try {
            if (Files.readSymbolicLink(fd).toString().equals(pipe)) {
              var level = new PipeLevel(Integer.parseInt(fd.getFileName().toString()));
              if (level.unread() >= 0) {
                return level;
              }
            }
          } catch (IOException | NumberFormatException e) {
            // A descriptor that closed while listing: not ours.
          }
        }
      }
    } catch (IOException e) {
      return null;
    }
    return null;
  }

  /** Bytes written and not yet read, or -1 if the descriptor is no longer a readable pipe. */
  int unread() {
    try (var arena = Arena.ofConfined()) {
      var count = arena.allocate(JAVA_INT);
      int rc = (int) IOCTL.invokeExact(fd, (long) FIONREAD, count);
      return rc == 0 ? count.get(JAVA_INT, 0) : -1;
    } catch (Throwable e) {
      return -1;
    }
  }

  private static MethodHandle ioctl() {
    try {
      var linker = Linker.nativeLinker();
      return linker.downcallHandle(linker.defaultLookup().find("ioctl").orElseThrow(),
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    } catch (RuntimeException | LinkageError e) {
      return null;
    }
  }
}
