package dev.kiln.sandbox;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One execution environment: made empty by {@link SandboxBackend#prepare}, then {@link #launch launched}
 * once with a runtime command, then {@link #close closed}.
 */
public interface Sandbox extends AutoCloseable {

  /** How the sandbox's main process ended. {@code code} is 128 + signal number when it was killed. */
  record Exit(int code, boolean oomKilled) {}

  String id();

  /** The limits the sandbox was made with (memory: the size it was prepared with, see {@link Launch#memoryMb()}). */
  SandboxLimits limits();

  /**
   * Host path of the Unix socket the worker listens on for this sandbox's Runtime API. The worker binds it
   * (and makes it mode 0666 so uid 65534 inside can connect) before {@link #launch}; inside the sandbox the
   * runtime reaches it over HTTP at {@link #runtimeApiAddress()}.
   */
  Path runtimeApiSocket();

  /**
   * The value of {@code AWS_LAMBDA_RUNTIME_API} inside: {@code 127.0.0.1:9001} in a crun sandbox with its
   * own network namespace (as on Lambda), {@code 127.0.0.1:<a free port>} otherwise.
   */
  String runtimeApiAddress();

  /**
   * Starts the runtime command; allowed once. The command gets exactly {@link Launch#environment()} (plus
   * {@code PATH} if absent) and nothing from the Kiln JVM. Every line it writes to stdout or stderr is passed
   * to {@code outputLine}, in order, from one virtual thread; a line longer than 256 KiB is split.
   *
   * @throws SandboxException when the sandbox is no longer usable (its idle process died, or it was closed)
   * @throws IllegalStateException when it was already launched
   */
  void launch(Launch launch, Consumer<String> outputLine);

  /**
   * Completes when the sandbox's main process has exited (after its last output line was delivered);
   * completes exceptionally only if the sandbox never became ready.
   */
  CompletableFuture<Exit> exited();

  /**
   * Host directory behind {@link Launch#OUTPUT_DIR}: what the sandbox wrote there when it was launched with
   * {@link Launch#writableOutput()}; readable until {@link #close()}.
   */
  Path outputDir();

  /**
   * Takes the file {@code name} the sandbox wrote to {@link Launch#OUTPUT_DIR}: first every process still in the
   * sandbox is killed (nothing can swap the file any more), then the file is copied into {@code target}, a new file
   * (mode 0644) in a directory only Kiln can write. The file is opened without following a link or blocking on a
   * FIFO and must be a regular file with one link, owned by the sandbox user, at most {@code maxBytes} long.
   *
   * @return the bytes copied
   * @throws java.io.IOException saying why the file was refused or could not be copied
   */
  default long takeOutput(String name, Path target, long maxBytes) throws java.io.IOException {
    throw new java.io.IOException("this sandbox has no output directory");
  }

  /** Peak memory use of everything in the sandbox since launch (before launch: since prepare), in bytes. */
  long peakMemoryBytes();

  /** Memory charged to the sandbox right now (its processes and its /tmp), in bytes; -1 when unknown. */
  default long currentMemoryBytes() {
    return -1;
  }

  /**
   * Waits (at most {@code max}) until every output line the sandbox wrote before {@code sinceNanos}
   * (a System.nanoTime value) has reached the launch's line consumer.
   */
  void awaitOutputDelivered(long sinceNanos, java.time.Duration max);

  /** CPU time used by everything in the sandbox, in nanoseconds; -1 when unknown. */
  default long cpuTimeNanos() {
    return -1;
  }

  /** Stops every process in the sandbox until {@link #thaw()}; returns when they are stopped. */
  /**
   * Starts recording the system calls of this sandbox's processes (a learned profile's training run); call it
   * before {@link #launch} to see the runtime's whole start.
   *
   * @throws SandboxException when this sandbox cannot be traced (see {@link SyscallRecording#unavailableReason})
   */
  default SyscallRecording recordSyscalls() {
    throw new SandboxException("this sandbox cannot record system calls");
  }

  /**
   * After the sandbox's main process exited: the system call a confined sandbox ({@link
   * SandboxBackend#prepareConfined}) was killed for, as the kernel's audit record names it; empty otherwise.
   * May wait a moment for the kernel to write the record.
   */
  default java.util.Optional<String> deniedSyscall() {
    return java.util.Optional.empty();
  }

  void freeze();

  void thaw();

  /**
   * Kills everything in the sandbox and removes its cgroups and directory. Idempotent; never throws;
   * {@link #exited()} completes (code 137 when it was still running).
   */
  @Override
  void close();
}
