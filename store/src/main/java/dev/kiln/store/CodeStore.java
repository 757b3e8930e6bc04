package dev.kiln.store;

import dev.kiln.core.CodeRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * Code packages on the local file system, addressed by the SHA-256 of their content: a package is
 * stored once however many functions, versions or accounts upload it. Layout: {@code
 * <root>/sha256/<first two hex digits>/<hex>.zip}.
 *
 * <p>{@link #put} returns only after the package's bytes and its directory entry are on disk
 * (written to a temporary file in the target directory, fsynced, renamed into place, directory
 * fsynced), so a {@link CodeRef} recorded in the metadata store after it never points at a missing
 * or partial file, even after kill -9 or a power loss. Readers never see a partial file because
 * the rename is atomic.
 *
 * <p>Lookups of a package that is not stored return empty ({@link #open}, {@link #file}, {@link
 * #size}) or false ({@link #exists}, {@link #delete}); a digest that is not 64 lowercase hex
 * digits is an {@link IllegalArgumentException} (it never reaches the file system). I/O failures
 * are {@link UncheckedIOException}. Safe for concurrent use, also by several processes sharing the
 * directory.
 */
public final class CodeStore {
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
  private static final String TEMP_PREFIX = ".put-";
  private static final String TEMP_SUFFIX = ".tmp";
  /** Temporary files older than this were left by a crashed put, not one still writing. */
  private static final Duration STALE_TEMP_AGE = Duration.ofHours(1);

  private final Path root;
  private final Path objects;

  /** Uses (and creates if needed) {@code root}; removes temporary files a crash left behind. */
  public CodeStore(Path root) {
    this.root = root.toAbsolutePath();
    this.objects = this.root.resolve("sha256");
    try {
      if (!Files.isDirectory(objects)) {
        Files.createDirectories(objects);
        fsyncDirectory(objects.getParent());
      }
      removeStaleTempFiles();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot use " + objects + " as the code store", e);
    }
  }

  public Path root() {
    return root;
  }

  /** Stores {@code zip} (if it is not stored yet) and returns its reference once it is durable. */
  public CodeRef put(byte[] zip) {
    var ref = new CodeRef(sha256Hex(zip), zip.length);
    Path target = path(ref.sha256Hex());
    try {
      if (Files.isRegularFile(target) && Files.size(target) == zip.length) {
        return ref;
      }
      Path directory = target.getParent();
      if (!Files.isDirectory(directory)) {
        Files.createDirectories(directory);
        fsyncDirectory(objects);
      }
      // Same directory as the target so the rename stays on one file system and is atomic.
      Path temp = Files.createTempFile(directory, TEMP_PREFIX, TEMP_SUFFIX);
      try {
        try (var channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
          var buffer = ByteBuffer.wrap(zip);
          while (buffer.hasRemaining()) {
            channel.write(buffer);
          }
          channel.force(true);
        }
        // A concurrent put of the same content may win the race; both files are identical.
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(temp);
      }
      fsyncDirectory(directory);
      return ref;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot store code package " + ref.sha256Hex(), e);
    }
  }

  /** The package's content, or empty when it is not stored. The caller closes the stream. */
  public Optional<InputStream> open(String sha256Hex) {
    try {
      return Optional.of(Files.newInputStream(path(sha256Hex)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read code package " + sha256Hex, e);
    }
  }

  /**
   * The stored file itself, for readers that need random access (a zip's central directory is at
   * its end). It must not be written to.
   */
  public Optional<Path> file(String sha256Hex) {
    Path path = path(sha256Hex);
    return Files.isRegularFile(path) ? Optional.of(path) : Optional.empty();
  }

  public boolean exists(String sha256Hex) {
    return Files.isRegularFile(path(sha256Hex));
  }

  /** Size in bytes, or empty when the package is not stored. */
  public OptionalLong size(String sha256Hex) {
    try {
      return OptionalLong.of(Files.size(path(sha256Hex)));
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the size of code package " + sha256Hex, e);
    }
  }

  /**
   * Removes the package; returns false when it was not stored. The caller checks first that no
   * version uses it ({@link StoreTransaction#codeInUse}).
   */
  public boolean delete(String sha256Hex) {
    Path path = path(sha256Hex);
    try {
      boolean deleted = Files.deleteIfExists(path);
      if (deleted) {
        fsyncDirectory(path.getParent());
      }
      return deleted;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete code package " + sha256Hex, e);
    }
  }

  private Path path(String sha256Hex) {
    if (sha256Hex == null || !SHA256_HEX.matcher(sha256Hex).matches()) {
      throw new IllegalArgumentException("not a SHA-256 hex digest: " + sha256Hex);
    }
    return objects.resolve(sha256Hex.substring(0, 2)).resolve(sha256Hex + ".zip");
  }

  static String sha256Hex(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** Makes a rename, creation or removal in {@code directory} durable (works on Linux and macOS). */
  private static void fsyncDirectory(Path directory) throws IOException {
    try (var channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private void removeStaleTempFiles() throws IOException {
    Instant cutoff = Instant.now().minus(STALE_TEMP_AGE);
    try (DirectoryStream<Path> prefixes = Files.newDirectoryStream(objects, Files::isDirectory)) {
      for (Path prefix : prefixes) {
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(prefix, TEMP_PREFIX + "*" + TEMP_SUFFIX)) {
          for (Path temp : temps) {
            if (Files.getLastModifiedTime(temp).toInstant().isBefore(cutoff)) {
              Files.deleteIfExists(temp);
            }
          }
        }
      }
    }
  }
}
