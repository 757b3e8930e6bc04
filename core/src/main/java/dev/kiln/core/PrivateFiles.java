package dev.kiln.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Files only Kiln's own user may read: the data directory (0700) and the secrets in it (0600: the database with
 * every account's keys, the credentials file, the code-link key). Modes are given when a file is created, never
 * set afterwards over a moment of the umask's 0644, and put right at start for files an earlier Kiln left open.
 */
public final class PrivateFiles {
  private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

  private PrivateFiles() {}

  /**
   * Creates {@code dir} (and its parents) if missing and makes it 0700. A directory every user may write (such as
   * {@code /tmp}) is refused rather than changed: it is not Kiln's to take.
   */
  public static void directory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      if (dir.getParent() != null) Files.createDirectories(dir.getParent());
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
      } catch (java.nio.file.FileAlreadyExistsException raced) {
        // made meanwhile: checked below like any existing one
      }
    } else if (Files.getPosixFilePermissions(dir).contains(PosixFilePermission.OTHERS_WRITE)) {
      throw new IOException("the data directory " + dir + " is writable by every user; give Kiln a directory of its own");
    }
    Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
  }

  /** Makes an existing file 0600 (a missing one is fine); links are not followed. */
  public static void restrict(Path file) throws IOException {
    if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
    }
  }

  /** Creates {@code file} empty and 0600 if it does not exist; an existing one is made 0600. */
  public static void create(Path file) throws IOException {
    try {
      Files.newByteChannel(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
          PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE)).close();
    } catch (java.nio.file.FileAlreadyExistsException e) {
      // kept as it is, only its mode put right
    }
    restrict(file);
  }

  /** Replaces {@code file} with {@code content}, 0600 from the first byte: a new temporary file renamed over it. */
  public static void write(Path file, byte[] content) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(temp);
    try (var channel = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
        PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE))) {
      var buffer = ByteBuffer.wrap(content);
      while (buffer.hasRemaining()) channel.write(buffer);
      channel.force(true);
    }
    Files.setPosixFilePermissions(temp, OWNER_ONLY_FILE); // the umask may have taken bits the attribute gave
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
