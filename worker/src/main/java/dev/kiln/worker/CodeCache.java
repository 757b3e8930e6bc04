package dev.kiln.worker;

import dev.kiln.core.CodeRef;
import dev.kiln.core.CodeZip;
import dev.kiln.core.Limits;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extracted code packages, one directory per SHA-256, extracted once and shared read-only by every
 * environment that runs that code. Extraction goes to a temporary directory that is renamed into
 * place, so a crash never leaves a half-extracted package that looks complete.
 *
 * <p>Packages are read with {@link CodeZip}, the reader the control plane checked them with, and the bytes
 * written are counted against Lambda's unzipped limit for the whole package: a package that would write more, or
 * whose headers disagree, is refused and its partial tree deleted. A tree no function version uses any more is
 * deleted ({@link #removeUnused}), unless an environment is being made from it right now ({@link #use}).
 */
public final class CodeCache {
  private static final Logger log = LoggerFactory.getLogger(CodeCache.class);

  private final Path root;
  private final Function<String, Path> zipFiles;
  private final Predicate<String> inUse;
  private final long maxUnzippedBytes;
  private final ConcurrentHashMap<String, Object> locks = new ConcurrentHashMap<>();
  /** Per package: leases held now (an environment being made from its tree). */
  private final ConcurrentHashMap<String, AtomicInteger> leases = new ConcurrentHashMap<>();

  /** A cache whose trees are all kept (tests). {@code zipFiles} maps a SHA-256 hex to the stored zip file. */
  public CodeCache(Path root, Function<String, Path> zipFiles) {
    this(root, zipFiles, sha -> true, Limits.MAX_UNZIPPED_BYTES);
  }

  /**
   * @param inUse whether a function version still uses the package with this SHA-256 hex; trees of packages
   *     nobody uses are removed now and whenever {@link #removeUnused} is called
   * @param maxUnzippedBytes the most a package may write in all
   */
  public CodeCache(Path root, Function<String, Path> zipFiles, Predicate<String> inUse, long maxUnzippedBytes) {
    this.root = root;
    this.zipFiles = zipFiles;
    this.inUse = inUse;
    this.maxUnzippedBytes = maxUnzippedBytes;
    try {
      Files.createDirectories(root);
      try (var stale = Files.list(root)) {
        stale.filter(p -> p.getFileName().toString().startsWith(".tmp-")).forEach(CodeCache::deleteTree);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare code cache " + root, e);
    }
    removeUnused();
  }

  /** A package's tree, kept while the lease is open. */
  public final class Lease implements AutoCloseable {
    private final String sha;
    private final Path directory;
    private boolean closed;

    private Lease(String sha, Path directory) {
      this.sha = sha;
      this.directory = directory;
    }

    public Path directory() {
      return directory;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        leases.get(sha).decrementAndGet();
      }
    }
  }

  /** The package's tree, extracted first if needed; it is not removed until the lease is closed. */
  public Lease use(CodeRef code) {
    var count = leases.computeIfAbsent(code.sha256Hex(), k -> new AtomicInteger());
    count.incrementAndGet();
    try {
      synchronized (lock(code.sha256Hex())) { // a removal in progress finishes first; this extracts again
        return new Lease(code.sha256Hex(), directory(code));
      }
    } catch (RuntimeException e) {
      count.decrementAndGet();
      throw e;
    }
  }

  /** The directory holding the extracted package, extracting it first if needed. */
  public Path directory(CodeRef code) {
    var target = root.resolve(code.sha256Hex());
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      return target;
    }
    synchronized (lock(code.sha256Hex())) {
      if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
        return target;
      }
      var temp = root.resolve(".tmp-" + code.sha256Hex() + "-" + UUID.randomUUID());
      try {
        extract(zipFiles.apply(code.sha256Hex()), temp, maxUnzippedBytes);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException e) {
        deleteTree(temp);
      } catch (IOException e) {
        deleteTree(temp);
        throw new UncheckedIOException("cannot extract code package " + code.sha256Hex() + ": " + e.getMessage(), e);
      }
      return target;
    }
  }

  /** Removes the trees of packages no function version uses and no environment is being made from. */
  public void removeUnused() {
    List<Path> trees;
    try (var list = Files.list(root)) {
      trees = list.filter(p -> !p.getFileName().toString().startsWith(".")).toList();
    } catch (IOException e) {
      log.warn("cannot list the code cache {}: {}", root, e.toString());
      return;
    }
    for (Path tree : trees) {
      String sha = tree.getFileName().toString();
      try {
        synchronized (lock(sha)) {
          var count = leases.get(sha);
          if ((count != null && count.get() > 0) || inUse.test(sha)) {
            continue;
          }
          // Out of the way at once (an atomic rename), then deleted: a new use extracts afresh meanwhile.
          Path gone = root.resolve(".tmp-gone-" + sha + "-" + UUID.randomUUID());
          Files.move(tree, gone, StandardCopyOption.ATOMIC_MOVE);
          deleteTree(gone);
          log.info("code cache: removed the unused tree of package {}", sha);
        }
      } catch (IOException | RuntimeException e) {
        log.warn("cannot remove the code tree {}: {}", tree, e.toString());
      }
    }
  }

  /** {@link #removeUnused} on a virtual thread, after the change that freed a package was committed. */
  public void removeUnusedSoon() {
    Thread.startVirtualThread(this::removeUnused);
  }

  private Object lock(String sha) {
    return locks.computeIfAbsent(sha, k -> new Object());
  }

  private static void extract(Path zipFile, Path into, long maxBytes) throws IOException {
    Files.createDirectory(into);
    setMode(into, 0755);
    try (var channel = FileChannel.open(zipFile, StandardOpenOption.READ)) {
      var zip = CodeZip.read(channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()));
      long written = 0;
      for (var entry : zip.entries()) {
        var target = into.resolve(entry.name()).normalize();
        if (!target.startsWith(into) || target.equals(into)) {
          continue;
        }
        if (entry.isSymbolicLink()) {
          log.debug("skipping symbolic link {} in code package", entry.name());
          continue;
        }
        if (entry.isDirectory()) {
          Files.createDirectories(target);
          setMode(target, 0755);
          continue;
        }
        Files.createDirectories(target.getParent());
        // A new file, never one already there nor what a link points at; what it writes counts against the limit.
        try (var out = new BufferedOutputStream(Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), 64 * 1024)) {
          written += zip.inflate(entry, out, maxBytes - written);
        }
        // Keep the owner's execute bit (a provided runtime's bootstrap needs it); everyone may read.
        boolean executable = (entry.unixMode() & 0100) != 0;
        setMode(target, executable ? 0755 : 0644);
      }
    }
    try (var walk = Files.walk(into)) {
      for (var dir : walk.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
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
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
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
