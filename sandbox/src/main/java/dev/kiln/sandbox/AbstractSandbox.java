package dev.kiln.sandbox;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What both backends share: the sandbox directory, the idle shell that waits for its start script on
 * stdin, the output pump and exit tracking.
 *
 * <p>Life of the idle process (the "stub", {@link #STUB}): it prints {@link #READY} (with the socat
 * fallback, {@link #STUB_SOCAT}, only once socat listens), then becomes {@code sh -s}, which reads commands
 * from stdin.
 * {@link #launch} writes the start script ({@code exec env -i ... command}) to that stdin and closes it, so
 * the runtime replaces the shell. If the Kiln JVM dies first, stdin reaches end-of-file and the idle
 * sandbox ends by itself.
 */
abstract class AbstractSandbox implements Sandbox {
  static final String READY = "KILN-SANDBOX-READY";
  /** The idle process when the Runtime API relay lives in the JVM: report ready, then read the start script. */
  static final String STUB = "echo " + READY + "\nexec /bin/sh -s\n";
  /**
   * The idle process when socat bridges the Runtime API inside the sandbox. Arguments: $1 port to listen
   * on, $2 that address as in /proc/net/tcp (0100007F:2329 for port 9001), $3 path of the Unix socket to forward to.
   * Ready only once socat listens, so a runtime can never connect too early.
   */
  static final String STUB_SOCAT = """
      /usr/bin/socat TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork,backlog=64,nodelay UNIX-CONNECT:$3 \
      </dev/null >/dev/null 2>&1 &
      s=$!
      n=0
      while :; do
        while read -r _ a _ st _; do
          if [ "$a" = "$2" ] && [ "$st" = 0A ]; then break 2; fi
        done </proc/net/tcp
        kill -0 $s 2>/dev/null || { echo "kiln: socat could not listen on 127.0.0.1:$1" >&2; exit 98; }
        n=$((n+1)); [ $n -lt 5000 ] || exit 97
        sleep 0.001
      done
      """ + STUB;

  protected final Logger log = LoggerFactory.getLogger(getClass());
  protected final String id;
  protected final SandboxLimits limits;
  protected final Path dir;
  protected final Path taskDir;
  protected final Path runDir;
  protected final Path outputDir;
  private Process process;
  private Thread pump;
  private final LineSplitter.ReadState readState = new LineSplitter.ReadState();
  /** Measures the output pipe exactly where the platform allows; null falls back to timing. */
  private volatile PipeLevel pipeLevel;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  protected final CompletableFuture<Exit> exited = new CompletableFuture<>();
  private final Deque<String> earlyLines = new ArrayDeque<>();
  private volatile Consumer<String> sink;
  private final AtomicBoolean launched = new AtomicBoolean();
  /** The Runtime API relay in the JVM, when this sandbox uses one (not socat). */
  protected volatile RuntimeApiRelay relay;
  protected final AtomicBoolean closed = new AtomicBoolean();

  AbstractSandbox(Path dir, SandboxLimits limits) {
    this.id = dir.getFileName().toString();
    this.limits = limits;
    this.dir = dir;
    this.taskDir = dir.resolve("task");
    this.runDir = dir.resolve("run");
    this.outputDir = dir.resolve("output");
    try {
      var rwxrxrx = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.createDirectory(taskDir, rwxrxrx);
      Files.createDirectory(runDir, rwxrxrx);
      Files.createDirectory(outputDir, rwxrxrx);
      // createDirectory honours the umask; the sandbox user (uid 65534) must be able to enter both.
      Files.setPosixFilePermissions(taskDir, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.setPosixFilePermissions(runDir, PosixFilePermissions.fromString("rwxr-xr-x"));
      // the output directory stays root's (read-only for the sandbox user) unless a launch asks for it
      Files.setPosixFilePermissions(outputDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (IOException e) {
      throw new SandboxException("cannot create sandbox directories in " + dir + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public SandboxLimits limits() {
    return limits;
  }

  @Override
  public Path runtimeApiSocket() {
    return runDir.resolve("runtime.sock");
  }

  @Override
  public Path outputDir() {
    return outputDir;
  }

  @Override
  public CompletableFuture<Exit> exited() {
    return exited.copy();
  }

  /** Starts the idle process and waits until it reports ready; closes the sandbox and throws if it does not. */
  protected void start(ProcessBuilder pb, Duration timeout) {
    pb.redirectErrorStream(true);
    try {
      process = pb.start();
    } catch (IOException e) {
      close();
      throw new SandboxException("cannot start sandbox " + id + ": " + e.getMessage(), e);
    }
    pump = Thread.ofVirtual().name("sandbox-out-" + id).start(this::pumpOutput);
    pipeLevel = PipeLevel.ofStdout(process.pid());
    Thread.ofVirtual().name("sandbox-exit-" + id).start(this::awaitExit);
    try {
      ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      String early = earlyOutput();
      close();
      throw new SandboxException("sandbox " + id + " was not ready within " + timeout.toMillis() + " ms" + early);
    } catch (ExecutionException e) {
      close();
      throw e.getCause() instanceof SandboxException se ? se
          : new SandboxException("sandbox " + id + " failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw new SandboxException("interrupted while preparing sandbox " + id);
    }
  }

  protected Process process() {
    return process;
  }

  /**
   * Output written before {@code sinceNanos} has been delivered once the pump sits in a read it
   * entered after that moment (a read returns at once when the pipe holds data), or in an older
   * read that stayed blocked well past it.
   */
  @Override
  public void awaitOutputDelivered(long sinceNanos, Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    var level = pipeLevel;
    while (System.nanoTime() < deadline && pump != null && pump.isAlive()) {
      long now = System.nanoTime();
      if (level != null) {
        // Nothing left in the pipe and the pump waiting in the same read a moment later means every
        // line was delivered: the second look rules out a read that just took bytes and is returning.
        int unread = level.unread();
        long entered = readState.readEnteredNanos;
        if (unread == 0 && readState.reading) {
          java.util.concurrent.locks.LockSupport.parkNanos(300_000);
          if (readState.reading && readState.readEnteredNanos == entered && level.unread() == 0) {
            return;
          }
          continue;
        }
        if (unread >= 0) {
          java.util.concurrent.locks.LockSupport.parkNanos(50_000);
          continue;
        }
      }
      if (readState.reading) {
        long entered = readState.readEnteredNanos;
        // A wake-up can lag on a loaded machine: a read entered before the moment gets longer to return.
        long settle = entered > sinceNanos ? 1_000_000 : 10_000_000;
        if (now - Math.max(entered, sinceNanos) > settle) {
          return;
        }
      }
      java.util.concurrent.locks.LockSupport.parkNanos(100_000);
    }
  }

  private void pumpOutput() {
    try {
      LineSplitter.pump(process.getInputStream(), line -> {
        if (!ready.isDone()) {
          if (line.equals(READY)) {
            ready.complete(null);
          } else {
            synchronized (earlyLines) {
              earlyLines.addLast(line);
              if (earlyLines.size() > 40) earlyLines.removeFirst();
            }
          }
          return;
        }
        Consumer<String> s = sink;
        if (s == null) {
          log.debug("sandbox {} (not launched): {}", id, line);
          return;
        }
        try {
          s.accept(line);
        } catch (RuntimeException e) {
          log.warn("output consumer of sandbox {} failed: {}", id, e.toString());
        }
      }, readState);
    } catch (IOException e) {
      log.debug("sandbox {} output ended: {}", id, e.toString());
    }
  }

  private void awaitExit() {
    int code;
    while (true) {
      try {
        code = process.waitFor();
        break;
      } catch (InterruptedException e) {
        // keep waiting: the process must be reaped
      }
    }
    try {
      afterExit();
    } catch (RuntimeException e) {
      log.warn("sandbox {}: cleanup after exit failed: {}", id, e.toString());
    }
    try {
      pump.join(Duration.ofSeconds(2));
    } catch (InterruptedException ignored) {
      // deliver what we have
    }
    if (!ready.isDone()) {
      ready.completeExceptionally(
          new SandboxException("sandbox " + id + " ended (exit " + code + ") before it was ready" + earlyOutput()));
    }
    boolean oom = false;
    try {
      oom = wasOomKilled();
    } catch (RuntimeException e) {
      log.debug("sandbox {}: oom state unknown: {}", id, e.toString());
    }
    exited.complete(new Exit(code, oom));
  }

  private String earlyOutput() {
    synchronized (earlyLines) {
      return earlyLines.isEmpty() ? "" : ": " + String.join(" | ", earlyLines);
    }
  }

  @Override
  public void launch(Launch launch, Consumer<String> outputLine) {
    Objects.requireNonNull(launch, "launch");
    Objects.requireNonNull(outputLine, "outputLine");
    if (closed.get()) throw new SandboxException("sandbox " + id + " is closed");
    if (!launched.compareAndSet(false, true)) throw new IllegalStateException("sandbox " + id + " was already launched");
    if (exited.isDone() || !process.isAlive()) throw new SandboxException("sandbox " + id + " is gone: its idle process ended");
    try {
      CodeTree.populate(launch.codeDir(), taskDir);
    } catch (IOException e) {
      throw new SandboxException("cannot place code " + launch.codeDir() + " into sandbox " + id + ": " + e, e);
    }
    try {
      for (var file : launch.runFiles().entrySet()) {
        CodeTree.placeFile(file.getValue(), runDir.resolve(file.getKey()));
      }
      if (launch.writableOutput()) {
        Os.handToSandboxUser(outputDir);
      }
    } catch (IOException e) {
      throw new SandboxException("cannot place start-up files into sandbox " + id + ": " + e, e);
    }
    beforeLaunch(launch);
    String script = startScript(launch);
    sink = outputLine;
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write(script.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new SandboxException("cannot start the runtime in sandbox " + id + ": " + e.getMessage(), e);
    }
  }

  @Override
  public long takeOutput(String name, Path target, long maxBytes) throws IOException {
    if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
      throw new IllegalArgumentException("not a plain file name: " + name);
    }
    if (closed.get()) throw new SandboxException("sandbox " + id + " is closed");
    killProcesses();
    return SandboxFiles.copyOut(outputDir.resolve(name), target, SandboxFiles.sandboxUid(), maxBytes);
  }

  /** Kills every process in the sandbox (its directory stays until {@link #close()}). */
  protected abstract void killProcesses();

  /** Backend work before the start script runs (limits). */
  protected abstract void beforeLaunch(Launch launch);

  protected abstract String startScript(Launch launch);

  /** Called once the main process has exited, before {@link #exited()} completes. */
  protected void afterExit() {}

  protected abstract boolean wasOomKilled();

  /** Process ids of everything running in the sandbox now (for tests and diagnostics). */
  abstract java.util.List<Long> processIds();

  /** Waits (bounded) for the exit future after everything was killed. */
  protected void awaitExited(Duration max) {
    try {
      exited.get(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // close must not throw
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
