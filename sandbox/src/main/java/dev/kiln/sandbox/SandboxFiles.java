package dev.kiln.sandbox;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The one way Kiln (root) touches a path a sandbox can write to: the file itself is opened without following a
 * symbolic link and without blocking on a FIFO, and what was opened is checked through the open descriptor (a
 * regular file or socket, one link, owned by the sandbox user, bounded in size) before a byte is read. The path
 * is never resolved a second time: the copy reads the opened file through {@code /proc/self/fd}, a Unix socket
 * is connected through its descriptor, so a link or another file swapped in after the check changes nothing.
 *
 * <p>Only the last path component may be the sandbox's: every directory above it must be Kiln's.
 */
final class SandboxFiles {
  private static final int O_RDONLY = 0;
  private static final int O_NONBLOCK = 04000;
  private static final int O_CLOEXEC = 02000000;
  private static final int O_PATH = 010000000;
  /** Differs between architectures (asm-generic vs x86). */
  private static final int O_NOFOLLOW = System.getProperty("os.arch", "").equals("aarch64") ? 0100000 : 0400000;
  private static final int S_IFMT = 0170000;
  private static final int S_IFREG = 0100000;
  private static final int S_IFSOCK = 0140000;
  private static final int S_IFLNK = 0120000;
  private static final int ENOENT = 2;
  private static final int ELOOP = 40;

  /** O_CREAT|O_EXCL: never follows a link, never opens an existing file. */
  private static final java.util.Set<StandardOpenOption> CREATE_NEW_WRITE =
      java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);

  private static final MethodHandle OPEN;
  private static final Throwable UNAVAILABLE;

  static {
    MethodHandle open = null;
    Throwable problem = null;
    try {
      open = Libc.downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
          Linker.Option.firstVariadicArg(2), Libc.capturesErrno());
    } catch (Throwable t) { // not Linux, native access denied, ...
      problem = t;
    }
    OPEN = open;
    UNAVAILABLE = problem;
  }

  private SandboxFiles() {}

  /** The owner every file a sandbox makes has: uid 65534 when Kiln runs as root, else Kiln's own uid. */
  static int sandboxUid() {
    int uid = Os.uid();
    return uid == 0 ? 65534 : uid;
  }

  /**
   * Copies the regular file {@code source} (written by a sandbox) into {@code target}, which must not exist and is
   * created exclusively (mode 0644, the source's modification time). Refuses, with an IOException saying why, a
   * symbolic link, a FIFO or any other non-regular file, a file with more than one link, a file not owned by
   * {@code ownerUid}, and one larger than {@code maxBytes}.
   */
  static long copyOut(Path source, Path target, int ownerUid, long maxBytes) throws IOException {
    int fd = open(source, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    try {
      Path opened = Path.of("/proc/self/fd/" + fd);
      Map<String, Object> stat = Files.readAttributes(opened, "unix:mode,uid,nlink,size,lastModifiedTime");
      int mode = (Integer) stat.get("mode");
      if ((mode & S_IFMT) != S_IFREG) {
        throw new IOException(source.getFileName() + " is not a regular file (mode " + Integer.toOctalString(mode) + ")");
      }
      if ((Integer) stat.get("nlink") != 1) {
        throw new IOException(source.getFileName() + " has " + stat.get("nlink") + " links (a hard link to another file)");
      }
      if ((Integer) stat.get("uid") != ownerUid) {
        throw new IOException(source.getFileName() + " is owned by uid " + stat.get("uid") + ", not the sandbox's "
            + ownerUid);
      }
      long size = (Long) stat.get("size");
      if (size > maxBytes) {
        throw new IOException(source.getFileName() + " is larger than " + maxBytes + " bytes: " + size);
      }
      // Reopening the descriptor's magic link opens the very inode checked above, never a path again.
      try (var in = FileChannel.open(opened, StandardOpenOption.READ);
           var out = FileChannel.open(target, CREATE_NEW_WRITE,
               PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")))) {
        long copied = 0;
        while (copied < size) {
          long n = in.transferTo(copied, size - copied, out);
          if (n <= 0) break;
          copied += n;
        }
        if (copied != size || in.size() != size) {
          throw new IOException(source.getFileName() + " changed while it was copied");
        }
        out.force(true);
      }
      Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--")); // not the umask's
      Files.setLastModifiedTime(target, (FileTime) stat.get("lastModifiedTime"));
      return size;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(target);
      throw e;
    } finally {
      Libc.close(fd);
    }
  }

  /**
   * Connects to the Unix socket {@code socket} a sandbox made, refusing a link, anything but a socket, and a socket
   * not owned by {@code ownerUid}: the connection goes to the checked inode, through its descriptor.
   */
  static SocketChannel connectUnix(Path socket, int ownerUid) throws IOException {
    int fd = open(socket, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    try {
      Path opened = Path.of("/proc/self/fd/" + fd);
      Map<String, Object> stat = Files.readAttributes(opened, "unix:mode,uid");
      int mode = (Integer) stat.get("mode");
      if ((mode & S_IFMT) == S_IFLNK) { // O_PATH|O_NOFOLLOW opens the link itself rather than failing
        throw new IOException(socket.getFileName() + " is a symbolic link");
      }
      if ((mode & S_IFMT) != S_IFSOCK) {
        throw new IOException(socket.getFileName() + " is not a socket (mode " + Integer.toOctalString(mode) + ")");
      }
      if ((Integer) stat.get("uid") != ownerUid) {
        throw new IOException(socket.getFileName() + " is owned by uid " + stat.get("uid") + ", not " + ownerUid);
      }
      var channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        channel.connect(UnixDomainSocketAddress.of(opened));
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      return channel;
    } finally {
      Libc.close(fd);
    }
  }

  private static int open(Path path, int flags) throws IOException {
    if (UNAVAILABLE != null) throw new IOException("native calls unavailable: " + UNAVAILABLE);
    return Libc.withErrno((arena, state) -> {
      int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path.toString()), flags, 0);
      if (fd < 0) {
        int errno = Libc.errno(state);
        throw new IOException(switch (errno) {
          case ELOOP -> path.getFileName() + " is a symbolic link";
          case ENOENT -> path.getFileName() + " does not exist";
          default -> "cannot open " + path.getFileName() + ": errno " + errno;
        });
      }
      return fd;
    });
  }
}
