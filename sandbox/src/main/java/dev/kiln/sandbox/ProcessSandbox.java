package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A plain child process in its own process group; see {@link ProcessBackend}. */
final class ProcessSandbox extends AbstractSandbox {
  private static final Pattern SANDBOX_PATH = Pattern.compile("(?<=^|[:=\\s'\"])(/var/task|/var/runtime|/run/kiln-output|/run/kiln)(?=$|[/:\\s'\"])");

  private final ProcessBackend backend;
  private final int port;
  private volatile long peak;
  private volatile Thread sampler;
  private volatile boolean frozen;

  ProcessSandbox(ProcessBackend backend, Path dir, SandboxLimits limits) {
    super(dir, limits);
    this.backend = backend;
    try {
      relay = new RuntimeApiRelay(RuntimeApiRelay.listenOnHostLoopback(), runtimeApiSocket(), id);
      this.port = relay.port();
    } catch (java.io.IOException e) {
      throw new SandboxException("no free port on 127.0.0.1 for the Runtime API: " + e.getMessage(), e);
    }
  }

  void boot() {
    long nproc = backend.nprocLimit(limits.maxPids());
    // setsid: a new session and process group (the process is not a group leader, so setsid does not fork
    // and the JVM's child stays the sandbox's main process).
    var cmd = List.of("/usr/bin/setsid", backend.prlimit.toString(), "--nofile=1024:1024",
        "--nproc=" + nproc + ":" + nproc, "--core=0:0", "--", "/bin/sh", "-c", STUB, "kiln-sandbox");
    var pb = new ProcessBuilder(cmd).directory(taskDir.toFile());
    Map<String, String> env = pb.environment();
    env.clear();
    env.put("PATH", Os.HELPER_PATH);
    start(pb, Duration.ofSeconds(30));
    try {
      RootDir.writePidsFile(dir.resolve(RootDir.PIDS_FILE), process().toHandle());
    } catch (IOException e) {
      log.warn("sandbox {}: cannot record its process id for crash cleanup: {}", id, e.toString());
    }
  }

  @Override
  public String runtimeApiAddress() {
    return "127.0.0.1:" + port;
  }

  /** The host path for a path as the worker names it inside a sandbox ({@code /var/task/...}, {@code /var/runtime/...}). */
  String hostPath(String sandboxPath) {
    return translate(sandboxPath);
  }

  private String translate(String value) {
    Matcher m = SANDBOX_PATH.matcher(value);
    if (!m.find()) return value;
    m.reset();
    var sb = new StringBuilder();
    while (m.find()) {
      String replacement = switch (m.group(1)) {
        case "/var/task" -> taskDir.toString();
        case Launch.RUN_FILES_DIR -> runDir.toString();
        case Launch.OUTPUT_DIR -> outputDir.toString();
        default -> backend.runtimeDir != null ? backend.runtimeDir.toString() : m.group();
      };
      m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  @Override
  protected void beforeLaunch(Launch launch) {
    sampler = Thread.ofVirtual().name("sandbox-mem-" + id).start(() -> {
      while (!exited.isDone() && !closed.get()) {
        if (!frozen) sampleMemory();
        Os.sleep(100);
      }
    });
  }

  @Override
  protected String startScript(Launch launch) {
    // Soft and hard data limit ≈ the memory size: allocations beyond it fail (no OOM kill without cgroups).
    String preamble = "ulimit -d " + (launch.memoryMb() * 1024L) + " || exit 126\n";
    return StartScript.build(launch, preamble, this::translate);
  }

  @Override
  protected void afterExit() {
    killGroup(); // what the runtime left behind (socat, background children) ends with it
  }

  @Override
  protected boolean wasOomKilled() {
    return false; // RLIMIT_DATA makes allocations fail instead; nothing here is OOM-killed on purpose
  }

  @Override
  List<Long> processIds() {
    Process p = process();
    if (p == null || !p.isAlive()) return List.of();
    var pids = new ArrayList<Long>();
    pids.add(p.pid());
    p.toHandle().descendants().forEach(d -> pids.add(d.pid()));
    return pids;
  }

  @Override
  public long peakMemoryBytes() {
    sampleMemory();
    return peak;
  }

  @Override
  public long cpuTimeNanos() {
    Process p = process();
    if (p == null) return -1;
    long total = p.toHandle().info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    for (ProcessHandle d : p.toHandle().descendants().toList()) {
      total += d.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }
    return total;
  }

  /** Sum of the peak resident sizes (VmHWM) of the sandbox's processes: an upper bound of the true peak. */
  private void sampleMemory() {
    Process p = process();
    if (p == null || !p.isAlive()) return;
    long sum = 0;
    var handles = new ArrayList<ProcessHandle>();
    handles.add(p.toHandle());
    p.toHandle().descendants().forEach(handles::add);
    for (ProcessHandle h : handles) {
      try {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(h.pid()), "status"))) {
          if (line.startsWith("VmHWM:")) {
            sum += Long.parseLong(line.substring(6).replace("kB", "").trim()) * 1024;
          }
        }
      } catch (IOException | RuntimeException ignored) {
        // exited meanwhile
      }
    }
    if (sum > peak) peak = sum;
  }

  @Override
  public void freeze() {
    if (closed.get()) throw new SandboxException("sandbox " + id + " is closed");
    frozen = true;
    signalAll("STOP");
  }

  @Override
  public void thaw() {
    if (closed.get()) throw new SandboxException("sandbox " + id + " is closed");
    signalAll("CONT");
    frozen = false;
  }

  private void signalAll(String signal) {
    Process p = process();
    if (p == null) return;
    var pids = new ArrayList<Long>();
    pids.add(-p.pid());
    p.toHandle().descendants().forEach(d -> pids.add(d.pid())); // also any that left the group
    Os.signal(signal, pids);
  }

  private void killGroup() {
    Process p = process();
    if (p == null) return;
    var pids = new ArrayList<Long>();
    pids.add(-p.pid());
    p.toHandle().descendants().forEach(d -> pids.add(d.pid()));
    Os.signal("KILL", pids);
  }

  @Override
  protected void killProcesses() {
    if (frozen) signalAll("CONT");
    killGroup();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    try {
      sampleMemory();
      if (relay != null) relay.close();
      Process p = process();
      if (p != null) {
        if (frozen) signalAll("CONT");
        killGroup();
        p.destroyForcibly();
        awaitExited(Duration.ofSeconds(5));
      }
      Os.deleteTreeQuietly(dir);
    } catch (RuntimeException | Error e) {
      log.warn("closing sandbox {} failed: {}", id, e.toString());
    } finally {
      exited.complete(new Exit(137, false));
      backend.forget(this);
    }
  }
}
