package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;
import dev.kiln.sandbox.SyscallRecording;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learned system call profiles ({@code KILN_SECCOMP_PROFILE}), one file per function under a directory of Kiln's
 * ({@code <data-dir>/seccomp-profiles/<account>/<function>}, directories 0700, files 0600): the names of the calls,
 * one a line. A training run adds to the function's profile (the union of every run), so a later run that takes
 * another path through the code widens it; deleting the file starts over.
 */
public final class SyscallProfiles {
  private static final Logger log = LoggerFactory.getLogger(SyscallProfiles.class);
  /** A training environment is traced from its launch through this many invocations (or until it retires). */
  public static final int TRAINING_INVOCATIONS = 5;

  private final Path root;

  public SyscallProfiles(Path root) {
    this.root = root;
    try {
      Files.createDirectories(root);
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + root, e);
    }
  }

  /** The function's learned calls, sorted; empty when it has never been trained. */
  public Optional<SortedSet<String>> profile(String account, String functionName) {
    Path file = file(account, functionName);
    try {
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
      var calls = new TreeSet<String>();
      for (String line : Files.readAllLines(file)) if (!line.isBlank()) calls.add(line.strip());
      return Optional.of(calls);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the profile of " + functionName, e);
    }
  }

  /** Forgets a function's profile (its function was deleted). */
  public void forget(String account, String functionName) {
    try {
      Files.deleteIfExists(file(account, functionName));
    } catch (IOException e) {
      log.warn("cannot delete the profile of {}: {}", functionName, e.toString());
    }
  }

  synchronized void add(String account, String functionName, Set<String> calls) throws IOException {
    var merged = new TreeSet<>(profile(account, functionName).orElseGet(TreeSet::new));
    merged.addAll(calls);
    Path dir = root.resolve(account);
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }
    Path temp = Files.createTempFile(dir, ".profile", ".tmp"); // 0600
    Files.write(temp, merged);
    Files.move(temp, file(account, functionName), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private Path file(String account, String functionName) {
    if (!account.matches("[0-9A-Za-z_-]+") || !functionName.matches("[0-9A-Za-z_-]+")) {
      throw new IllegalArgumentException("not an account or function name: " + account + "/" + functionName);
    }
    return root.resolve(account).resolve(functionName);
  }

  /** One environment's training run: recording since launch, saved after its training invocations or at its end. */
  final class Training {
    private final SyscallRecording recording;
    private final FunctionVersion version;
    private final AtomicInteger invocations = new AtomicInteger();
    private final AtomicBoolean finished = new AtomicBoolean();

    Training(SyscallRecording recording, FunctionVersion version) {
      this.recording = recording;
      this.version = version;
    }

    void invocationEnded() {
      if (invocations.incrementAndGet() >= TRAINING_INVOCATIONS) finish();
    }

    /** Stops recording and adds what was seen to the profile. Idempotent. */
    void finish() {
      if (!finished.compareAndSet(false, true)) return;
      var calls = recording.stop();
      if (calls.isEmpty()) {
        log.warn("training run of {} recorded no system calls", version.functionName());
        return;
      }
      try {
        add(version.account(), version.functionName(), calls);
        log.info("learned {} system calls of {} ({} invocations)", calls.size(), version.functionName(),
            invocations.get());
      } catch (IOException e) {
        log.warn("cannot save the profile of {}: {}", version.functionName(), e.toString());
      }
    }
  }
}
