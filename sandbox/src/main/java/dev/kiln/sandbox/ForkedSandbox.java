package dev.kiln.sandbox;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An execution environment forked from a zygote: a runtime that already initialized the function in another
 * crun sandbox (the function's, see {@link SandboxBackend#prepareZygote}) and forks on request.
 *
 * <p>{@link #fork} asks the zygote for a child over its control socket, ahead of demand. The child unshares user,
 * mount, network, IPC, UTS and PID namespaces (private {@code /tmp}, {@code /dev/shm}, {@code /dev/mqueue} and
 * {@code /dev/pts}, the zygote's {@code /run} out of sight) and reports its pid; Kiln moves it into
 * this environment's own cgroup (memory, pids, CPU, freezer: the same limits as a booted sandbox) and opens the
 * Runtime API on {@code 127.0.0.1:9001} inside its network namespace, then tells it so. Only then does it fork the
 * environment's first process (process 1 of the new PID namespace, with a {@code /proc} of its own, no
 * capabilities and the child seccomp filter), so every process of the environment is in the cgroup and sees no
 * process of the zygote or of other environments. That process forks the runtime, which waits until
 * {@link #launch} sends its environment variables. The runtime's stdout and stderr are the control connection;
 * process 1 writes its exit status there at the end. Its network is a veth link of its own into the child's
 * namespace, made before the child is told it joined, with the launch's policy applied as for a booted sandbox.
 */
final class ForkedSandbox implements Sandbox {
  private static final Logger log = LoggerFactory.getLogger(ForkedSandbox.class);
  /**
   * How long the zygote may take to fork and isolate a child: a few milliseconds normally; a zygote that takes
   * longer is broken (stopped, or not answering), and its caller starts the environment another way.
   */
  private static final Duration FORK_TIMEOUT = Duration.ofSeconds(5);

  private final CrunBackend backend;
  private final CrunSandbox zygote;
  private final Path controlSocket;
  private final SandboxLimits limits;
  private final Path dir;
  private final String id;
  private final CgroupV1 cgroup;
  private final CompletableFuture<Exit> exited = new CompletableFuture<>();
  private final AtomicBoolean launched = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final String exitMark = "KILN-EXIT-" + UUID.randomUUID();
  private volatile SocketChannel channel;
  private volatile RuntimeApiRelay relay;
  /** The child's veth and policy, like a booted sandbox's; null when the backend has no network. */
  private volatile SandboxLink link;
  private volatile BufferedReader reader;
  private final CgroupGauges gauges;

  ForkedSandbox(CrunBackend backend, CrunSandbox zygote, Path controlSocket, Path dir, SandboxLimits limits) {
    this.backend = backend;
    this.zygote = zygote;
    this.controlSocket = controlSocket;
    this.limits = limits;
    this.dir = dir;
    this.id = dir.getFileName().toString();
    this.gauges = new CgroupGauges(id, closed);
    try {
      Files.createDirectory(dir.resolve("run"));
      Files.createDirectory(dir.resolve("output"));
      this.cgroup = CgroupV1.create(backend.cgroupMounts, backend.root.cgroupBase() + "/" + id);
      cgroup.applyInitial(limits);
    } catch (IOException e) {
      throw new SandboxException("cannot set up forked sandbox " + id + ": " + e.getMessage(), e);
    }
    gauges.attach(cgroup);
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
    return dir.resolve("run").resolve("runtime.sock");
  }

  @Override
  public String runtimeApiAddress() {
    return "127.0.0.1:" + CrunSandbox.RUNTIME_API_PORT;
  }

  @Override
  public Path outputDir() {
    return dir.resolve("output");
  }

  /**
   * Forks the child now, ahead of its launch: it isolates itself, joins this sandbox's cgroup and gets its Runtime
   * API, then waits for its environment variables. What is left for {@link #launch} is one line.
   */
  void fork() {
    long deadline = System.nanoTime() + FORK_TIMEOUT.toNanos();
    try {
      cgroup.setMemory(limits.memoryMb());
      // the socket is in the zygote's writable output directory: never follow what it put there
      var c = SandboxFiles.connectUnix(controlSocket, SandboxFiles.sandboxUid());
      channel = c;
      write(c, "{\"tmpMb\":" + limits.ephemeralStorageMb() + ",\"exitMark\":" + Json.str(exitMark) + "}\n");
      reader = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
      long pid = hostPid(Long.parseLong(answer("unshared ", deadline).trim()));
      cgroup.addProcess(pid);
      var address = new InetSocketAddress(InetAddress.getLoopbackAddress(), CrunSandbox.RUNTIME_API_PORT);
      relay = new RuntimeApiRelay(NetNs.listen(pid, address), runtimeApiSocket(), id);
      if (backend.network != null) { // pid ends after "joined"; the environment's processes stay in its cgroup
        link = SandboxLink.connect(backend.network, pid, () -> cgroup.pids().iterator().next(), id);
      }
      // The child's network namespace is complete here: its first process is forked only after this answer.
      write(c, "joined\n");
      answer("forked", deadline);
    } catch (IOException | RuntimeException e) {
      close();
      throw e instanceof SandboxException se ? se
          : new SandboxException("cannot fork an environment in sandbox " + id + ": " + e.getMessage(), e);
    }
  }

  /**
   * Starts the parked child with exactly {@code launch.environment()}; the command and code of the launch are the
   * zygote's already (they are what it was started with), run files do not apply.
   */
  @Override
  public void launch(Launch launch, Consumer<String> outputLine) {
    if (closed.get()) throw new SandboxException("sandbox " + id + " is closed");
    if (!launched.compareAndSet(false, true)) throw new IllegalStateException("sandbox " + id + " was already launched");
    try {
      if (launch.memoryMb() != limits.memoryMb()) {
        cgroup.setMemory(launch.memoryMb());
      }
      cgroup.resetPeakMemory();
      if (link != null && !launch.network().none()) link.apply(launch.network());
      var env = new StringBuilder();
      launch.environment().forEach((k, v) -> env.append(env.isEmpty() ? "" : ",").append(Json.str(k)).append(':')
          .append(Json.str(v)));
      write(channel, "{\"env\":{" + env + "}}\n");
      Thread.ofVirtual().name("forked-out-" + id).start(() -> pump(reader, outputLine));
    } catch (IOException | RuntimeException e) {
      close();
      throw e instanceof SandboxException se ? se
          : new SandboxException("cannot start the forked environment " + id + ": " + e.getMessage(), e);
    }
  }

  /**
   * The zygote's next answer, which must start with {@code expected}; the rest of it. Gives up (by closing the
   * channel) at {@code deadline}.
   */
  private String answer(String expected, long deadline) throws IOException {
    var watchdog = Thread.ofVirtual().start(() -> {
      try {
        Thread.sleep(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        closeChannel();
      } catch (InterruptedException done) {
        // answered in time
      }
    });
    String answer;
    try {
      answer = reader.readLine();
    } catch (IOException e) {
      if (System.nanoTime() - deadline >= 0) {
        throw new SandboxException("the zygote did not fork an environment within " + FORK_TIMEOUT.toMillis() + " ms");
      }
      throw e;
    } finally {
      watchdog.interrupt();
    }
    if (answer == null || !answer.startsWith(expected)) {
      throw new SandboxException("the zygote could not fork an environment: "
          + (answer == null ? "it closed the connection" : answer));
    }
    return answer.substring(expected.length());
  }

  /** The child's pid as the host sees it: the zygote names it in its own PID namespace. */
  private long hostPid(long pidInZygote) throws IOException {
    for (long pid : zygote.processIds()) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
          if (line.startsWith("NSpid:")) {
            String[] ids = line.substring("NSpid:".length()).trim().split("\\s+");
            if (Long.parseLong(ids[ids.length - 1]) == pidInZygote) return pid;
          }
        }
      } catch (IOException | NumberFormatException gone) {
        // exited meanwhile
      }
    }
    throw new IOException("the forked process " + pidInZygote + " is not in the zygote's sandbox");
  }

  private void pump(BufferedReader reader, Consumer<String> outputLine) {
    int code = 137;
    try {
      String line;
      boolean pendingBlank = false;
      while ((line = reader.readLine()) != null) {
        if (line.startsWith(exitMark + " ")) {
          code = Integer.parseInt(line.substring(exitMark.length() + 1).trim());
          break;
        }
        // the zygote starts its status line with a newline, in case the child's last line had none
        if (pendingBlank) outputLine.accept("");
        pendingBlank = line.isEmpty();
        if (!pendingBlank) outputLine.accept(line);
      }
    } catch (IOException | RuntimeException e) {
      // closed: the environment is over
    }
    boolean oom = false;
    try {
      oom = cgroup.oomKills() > 0;
    } catch (IOException ignored) {
      // removed already
    }
    exited.complete(new Exit(oom ? 137 : code, oom));
  }

  private static void write(SocketChannel c, String text) throws IOException {
    var buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    while (buffer.hasRemaining()) c.write(buffer);
  }

  private void closeChannel() {
    var c = channel;
    if (c != null) {
      try {
        c.close();
      } catch (IOException ignored) {
        // closing
      }
    }
  }

  @Override
  public CompletableFuture<Exit> exited() {
    return exited.copy();
  }

  @Override
  public long peakMemoryBytes() {
    return gauges.peakMemoryBytes();
  }

  @Override
  public long currentMemoryBytes() {
    return gauges.currentMemoryBytes();
  }

  @Override
  public long cpuTimeNanos() {
    return gauges.cpuTimeNanos();
  }

  @Override
  public void awaitOutputDelivered(long sinceNanos, Duration max) {
    // Kiln's bootstraps end each invocation's output with a mark, which the worker waits for instead.
  }

  @Override
  public void freeze() {
    gauges.freeze();
  }

  @Override
  public void thaw() {
    gauges.thaw();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    try {
      gauges.recordFinal();
      cgroup.killAll();
      if (relay != null) relay.close();
      if (link != null) link.close();
      closeChannel();
      cgroup.remove();
      Os.deleteTreeQuietly(dir);
    } catch (RuntimeException | Error e) {
      log.warn("closing forked sandbox {} failed: {}", id, e.toString());
    } finally {
      exited.complete(new Exit(137, false));
      backend.forgetFork(this);
    }
  }
}
