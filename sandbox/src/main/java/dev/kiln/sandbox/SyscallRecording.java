package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The system calls a sandbox's processes make, recorded from the host by {@code strace} attached to them (and,
 * with {@code -f}, to every process and thread they start) until {@link #stop}: the training run of a learned
 * profile ({@code KILN_SECCOMP_PROFILE=learn}). strace runs as root in the host's namespaces; the traced processes
 * cannot see it, and the sandbox's own filter (which denies {@code ptrace}) does not apply to it. Calls the filter
 * denied are recorded too: they were attempted.
 */
public final class SyscallRecording {
  static final Path STRACE = Path.of("/usr/bin/strace");

  private final Process strace;
  private final Path summary;
  /** Thaws the traced processes: strace detaches by stopping each one, which a frozen process never does. */
  private final Runnable thaw;

  private SyscallRecording(Process strace, Path summary, Runnable thaw) {
    this.strace = strace;
    this.summary = summary;
    this.thaw = thaw;
  }

  /** Why recording cannot work on this host, or null. */
  public static String unavailableReason() {
    if (!Files.isExecutable(STRACE)) return "strace is not installed at /usr/bin/strace (apt-get install strace)";
    if (Os.uid() != 0) return "not running as root";
    return null;
  }

  /**
   * Attaches to {@code pids}; returns once every one of them is traced, so nothing they do from now on is missed.
   *
   * @param summary host file strace writes its table of calls to when it detaches (a file of Kiln's, not the
   *     sandbox's)
   * @param thaw thaws the sandbox, run before strace detaches
   */
  static SyscallRecording attach(List<Long> pids, Path summary, Runnable thaw) {
    String reason = unavailableReason();
    if (reason != null) throw new SandboxException("cannot record system calls: " + reason);
    if (pids.isEmpty()) throw new SandboxException("cannot record system calls: the sandbox has no process");
    var cmd = new ArrayList<>(List.of(STRACE.toString(), "-f", "-qq", "-c", "-U", "name", "-o", summary.toString()));
    for (long pid : pids) cmd.addAll(List.of("-p", Long.toString(pid)));
    Process strace;
    try {
      strace = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
    } catch (IOException e) {
      throw new SandboxException("cannot start strace: " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (long pid : pids) {
      while (tracer(pid) != strace.pid()) {
        if (!strace.isAlive() || System.nanoTime() > deadline) {
          strace.destroyForcibly();
          throw new SandboxException("strace could not attach to process " + pid);
        }
        Os.sleep(2);
      }
    }
    return new SyscallRecording(strace, summary, thaw);
  }

  /** TracerPid of /proc/pid/status, or -1 when the process is gone. */
  private static long tracer(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("TracerPid:")) return Long.parseLong(line.substring(10).strip());
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /**
   * Detaches (the traced processes go on undisturbed) and returns the calls seen, by name; an empty set when strace
   * failed. Idempotent.
   */
  public synchronized Set<String> stop() {
    if (strace.isAlive()) {
      try {
        thaw.run(); // an idle environment may be frozen; it is being retired or about to serve anyway
      } catch (SandboxException closed) {
        // its processes are gone: strace ends by itself
      }
      strace.toHandle().destroy(); // SIGTERM: strace detaches and writes its table
      try {
        if (!strace.waitFor(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS)) strace.destroyForcibly();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        strace.destroyForcibly();
      }
    }
    try {
      return parse(Files.readAllLines(summary));
    } catch (IOException e) {
      return Set.of();
    } finally {
      try {
        Files.deleteIfExists(summary);
      } catch (IOException ignored) {
        // the sandbox's directory goes with it
      }
    }
  }

  /**
   * strace's {@code -c -U name} table: a header, a rule, one call name a line, a rule, {@code total}. Calls strace
   * does not know by name are {@code syscall_0x<hex>}; they become the table's name, or {@code syscall_<n>}.
   */
  static Set<String> parse(List<String> lines) {
    var calls = new TreeSet<String>();
    boolean inTable = false;
    for (String line : lines) {
      String word = line.strip();
      if (word.startsWith("---")) {
        if (inTable) break;
        inTable = true;
        continue;
      }
      if (!inTable || word.isEmpty()) continue;
      if (word.startsWith("syscall_0x")) {
        word = X86_64Syscalls.name(Integer.parseInt(word.substring("syscall_0x".length()), 16));
      }
      calls.add(word);
    }
    return calls;
  }
}
