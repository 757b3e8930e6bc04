package dev.kiln.worker;

import dev.kiln.core.CodeRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extracted code packages, one directory per SHA-256, extracted once and shared read-only by every
 * environment that runs that code. Extraction goes to a temporary directory that is renamed into
 * place, so a crash never leaves a half-extracted package that looks complete.
 */
public final class CodeCache {
  private static final Logger log = LoggerFactory.getLogger(CodeCache.class);
  private static final int S_IFMT = 0170000;
  private static final int S_IFLNK = 0120000;

  private final Path root;
  private final Function<String, Path> zipFiles;
  private final ConcurrentHashMap<String, Object> locks = new ConcurrentHashMap<>();

  /** {@code zipFiles} maps a SHA-256 hex to the stored zip file. */
  public CodeCache(Path root, Function<String, Path> zipFiles) {
    this.root = root;
    this.zipFiles = zipFiles;
    try {
      Files.createDirectories(root);
      try (var stale = Files.list(root)) {
        stale.filter(p -> p.getFileName().toString().startsWith(".tmp-")).forEach(CodeCache::deleteTree);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare code cache " + root, e);
    }
  }

  /** The directory holding the extracted package, extracting it first if needed. */
  public Path directory(CodeRef code) {
    var target = root.resolve(code.sha256Hex());
    if (Files.isDirectory(target)) {
      return target;
    }
    synchronized (locks.computeIfAbsent(code.sha256Hex(), k -> new Object())) {
      if (Files.isDirectory(target)) {
        return target;
      }
      var temp = root.resolve(".tmp-" + code.sha256Hex() + "-" + UUID.randomUUID());
      try {
        extract(zipFiles.apply(code.sha256Hex()), temp);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException e) {
        deleteTree(temp);
      } catch (IOException e) {
        deleteTree(temp);
        throw new UncheckedIOException("cannot extract code package " + code.sha256Hex(), e);
      }
      return target;
    }
  }

  private static void extract(Path zipFile, Path into) throws IOException {
    Files.createDirectories(into);
    setMode(into, 0755);
    try (var zip = ZipFile.builder().setPath(zipFile).get()) {
      var entries = zip.getEntries();
      while (entries.hasMoreElements()) {
        var entry = entries.nextElement();
        var target = into.resolve(entry.getName()).normalize();
        if (!target.startsWith(into) || target.equals(into)) {
          continue;
        }
        int unixMode = entry.getUnixMode();
        if ((unixMode & S_IFMT) == S_IFLNK) {
          log.debug("skipping symbolic link {} in code package", entry.getName());
          continue;
        }
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          setMode(target, 0755);
          continue;
        }
        Files.createDirectories(target.getParent());
        try (var in = zip.getInputStream(entry)) {
          Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        // Keep the owner's execute bit (a provided runtime's bootstrap needs it); everyone may read.
        boolean executable = (unixMode & 0100) != 0;
        setMode(target, executable ? 0755 : 0644);
      }
    }
    try (var walk = Files.walk(into)) {
      for (var dir : walk.filter(Files::isDirectory).toList()) {
        setMode(dir, 0755);
      }
    }
  }

  private static void setMode(Path path, int mode) throws IOException {
    Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
    var all = PosixFilePermission.values();
    for (int bit = 0; bit < 9; bit++) {
      if ((mode & (1 << (8 - bit))) != 0) {
        perms.add(all[bit]);
      }
    }
    Files.setPosixFilePermissions(path, perms);
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          log.debug("cannot delete {}: {}", p, e.toString());
        }
      });
    } catch (IOException e) {
      log.debug("cannot walk {}: {}", dir, e.toString());
    }
  }
}
