package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/** A crun container; see {@link CrunBackend} for what it is made of. */
final class CrunSandbox extends AbstractSandbox {
  static final int RUNTIME_API_PORT = 9001;
  private static final String SOCKET_INSIDE = "/run/kiln/runtime.sock";
  private static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

  /**
   * Where a zygote sandbox has a second, unmasked {@code /proc}: the kernel lets a process in a user namespace
   * mount a new proc only when a proc is fully visible in its mount namespace (crun masks parts of
   * {@code /proc}), and a forked environment needs a proc of its own PID namespace. The directory is a root-owned
   * 0700 directory of the skeleton root, so neither the zygote's processes nor the environments can enter it.
   */
  static final String ZYGOTE_FULL_PROC = "/run/kiln-proc";

  private final CrunBackend backend;
  /** Whether environments are forked from this sandbox's runtime (see {@link #ZYGOTE_FULL_PROC}). */
  final boolean zygote;
  private final boolean socat;
  private int port;
  private CgroupV1 cgroup;
  private final CgroupGauges gauges;
  /** The OCI {@code linux.seccomp} object, or null for none. */
  private final String seccomp;
  /** Its veth and policy; null with the host's network or when the backend has no network. */
  private volatile SandboxLink link;

  /** A confined sandbox's whole filter ({@link SeccompBpf#compileConfined}), or null. */
  private final byte[] confinedFilter;
  /** Every process a confined sandbox has had, by host pid: the kernel's kill record names the process by it. */
  private final Set<Long> seenPids = ConcurrentHashMap.newKeySet();

  CrunSandbox(CrunBackend backend, Path dir, SandboxLimits limits, boolean zygote, String seccomp) {
    this(backend, dir, limits, zygote, seccomp, null);
  }

  CrunSandbox(CrunBackend backend, Path dir, SandboxLimits limits, boolean zygote, String seccomp,
      byte[] confinedFilter) {
    super(dir, limits);
    this.backend = backend;
    this.zygote = zygote;
    this.seccomp = seccomp;
    this.confinedFilter = confinedFilter;
    this.socat = backend.useSocat && !limits.network();
    this.port = RUNTIME_API_PORT;
    this.gauges = new CgroupGauges(id, closed);
  }

  void boot() {
    try {
      if (limits.network()) { // host network namespace: the relay listens on a free port of the host's loopback
        relay = new RuntimeApiRelay(RuntimeApiRelay.listenOnHostLoopback(), runtimeApiSocket(), id);
        port = relay.port();
      }
      cgroup = CgroupV1.create(backend.cgroupMounts, backend.root.cgroupBase() + "/" + id);
      cgroup.applyInitial(limits);
      gauges.attach(cgroup);
      Files.writeString(dir.resolve("config.json"), config());
    } catch (IOException e) {
      throw new SandboxException("cannot set up sandbox " + id + ": " + e.getMessage(), e);
    }
    List<String> cmd = backend.wrap(cgroup.procsFiles(), backend.crunCommand("run", "--bundle", dir.toString(), id));
    var pb = new ProcessBuilder(cmd).directory(dir.toFile());
    Map<String, String> env = pb.environment();
    env.clear();
    env.put("PATH", Os.HELPER_PATH);
    start(pb, Duration.ofSeconds(30));
    if (!socat && !limits.network()) {
      try {
        long pid = processInOwnNetworkNamespace();
        var address = new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), RUNTIME_API_PORT);
        relay = new RuntimeApiRelay(NetNs.listen(pid, address), runtimeApiSocket(), id);
      } catch (IOException | RuntimeException e) {
        close();
        throw new SandboxException("cannot open the Runtime API port in sandbox " + id + ": " + e.getMessage(), e);
      }
    }
    if (linked()) {
      try {
        long pid = processInOwnNetworkNamespace(); // the container's first process: it lives as long as the sandbox
        link = SandboxLink.connect(backend.network, pid, () -> pid, id);
      } catch (IOException | RuntimeException e) {
        close();
        throw new SandboxException("cannot connect sandbox " + id + " to the network: " + e.getMessage(), e);
      }
    }
  }

  /**
   * Notes the host pid of the runtime of a confined sandbox: the idle shell's child (the idle shell reports a
   * runtime killed by the filter as exit status 159, and the kernel's record names the runtime's pid). The child
   * stops itself before it becomes the runtime ({@link #startScript}) and goes on only once noted here, so even a
   * runtime that breaks its profile at once is known: watching the group's pids would miss one that lives less
   * than a poll. Processes the runtime starts later need not be known: a filter kill ends only them, and the
   * runtime sees its child die of SIGSYS.
   */
  private void watchPids() {
    while (!exited.isDone() && !closed.get()) {
      for (long pid : cgroup.pids()) {
        if (stopped(pid)) {
          seenPids.add(pid);
          Os.signal("CONT", List.of(pid));
          return;
        }
      }
      Os.sleep(1);
    }
  }

  /** Whether the process is stopped by a signal (state T in /proc/PID/stat). */
  private static boolean stopped(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      int end = stat.lastIndexOf(')'); // the command name may hold spaces and parentheses
      return end > 0 && end + 2 < stat.length() && stat.charAt(end + 2) == 'T';
    } catch (IOException gone) {
      return false;
    }
  }

  @Override
  public SyscallRecording recordSyscalls() {
    try {
      return SyscallRecording.attach(containerProcesses(), dir.resolve("syscalls.txt"), gauges::thaw);
    } catch (IOException e) {
      throw new SandboxException("cannot record the system calls of sandbox " + id + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Optional<String> deniedSyscall() {
    if (confinedFilter == null || !exited.isDone()) return Optional.empty();
    int code = exited.join().code();
    if (code != 128 + 31) return Optional.empty(); // not SIGSYS: the shell reports the runtime's death this way
    seenPids.addAll(cgroup.pids());
    return KernelAuditLog.killedCall(Set.copyOf(seenPids), 1000).or(() -> Optional.of("(unknown)"));
  }

  /** The container's processes (not crun, which is in the cgroup too but in the host's PID namespace). */
  private List<Long> containerProcesses() throws IOException {
    Path hostNs = Files.readSymbolicLink(Path.of("/proc/self/ns/pid"));
    var pids = new ArrayList<Long>();
    for (long pid : cgroup.pids()) {
      try {
        if (!Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/pid")).equals(hostNs)) pids.add(pid);
      } catch (IOException gone) {
        // exited meanwhile
      }
    }
    return pids;
  }

  /** Whether this sandbox gets a veth link: a namespace of its own and a backend with a network. */
  private boolean linked() {
    return backend.network != null && !limits.network();
  }

  /** A process of the container (not crun, which is in the group too but in the host's namespaces). */
  private long processInOwnNetworkNamespace() throws IOException {
    Path hostNs = Files.readSymbolicLink(Path.of("/proc/self/ns/net"));
    for (long pid : cgroup.pids()) {
      try {
        if (!Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).equals(hostNs)) return pid;
      } catch (IOException gone) {
        // exited meanwhile
      }
    }
    throw new IOException("no process of the container is running");
  }

  @Override
  public String runtimeApiAddress() {
    return "127.0.0.1:" + port;
  }

  @Override
  protected void beforeLaunch(Launch launch) {
    if (confinedFilter != null) Thread.ofVirtual().name("sandbox-pids-" + id).start(this::watchPids);
    try {
      cgroup.setMemory(launch.memoryMb());
      cgroup.resetPeakMemory();
    } catch (IOException e) {
      throw new SandboxException("cannot set the memory limit of sandbox " + id + ": " + e.getMessage(), e);
    }
    var l = link;
    if (l != null && !launch.network().none()) l.apply(launch.network());
  }

  @Override
  protected String startScript(Launch launch) {
    if (confinedFilter == null) return StartScript.build(launch, "", UnaryOperator.identity());
    // The runtime's process stops itself until watchPids has noted its pid (see there).
    return StartScript.build(launch, "", UnaryOperator.identity(), List.of("/bin/sh", "-c", "kill -STOP $$; exec \"$@\"",
        "kiln-runtime"));
  }

  @Override
  protected boolean wasOomKilled() {
    try {
      return cgroup != null && cgroup.oomKills() > 0;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  java.util.List<Long> processIds() {
    return cgroup == null ? List.of() : List.copyOf(cgroup.pids());
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
  public void freeze() {
    gauges.freeze();
  }

  @Override
  public void thaw() {
    gauges.thaw();
  }

  @Override
  protected void killProcesses() {
    if (cgroup != null) cgroup.killAll();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    try {
      if (cgroup != null) {
        gauges.recordFinal();
        cgroup.killAll(); // crun itself is in the group too: everything dies, then crun's record is removed
      }
      if (relay != null) relay.close();
      if (link != null) link.close();
      Process p = process();
      if (p != null) {
        if (p.isAlive()) p.destroyForcibly(); // only if the wrapper never joined the cgroup
        awaitExited(Duration.ofSeconds(5));
      }
      if (cgroup != null) cgroup.remove();
      Os.deleteTreeQuietly(backend.crunState.resolve(id));
      Os.deleteTreeQuietly(dir);
    } catch (RuntimeException | Error e) {
      log.warn("closing sandbox {} failed: {}", id, e.toString());
    } finally {
      exited.complete(new Exit(137, false)); // no-op when it completed on its own
      backend.forget(this);
    }
  }

  /** The OCI runtime configuration. */
  private String config() {
    String tcpHex = String.format("0100007F:%04X", port);
    var args = socat ? List.of("/bin/sh", "-c", STUB_SOCAT, "kiln-sandbox", Integer.toString(port), tcpHex, SOCKET_INSIDE)
        : List.of("/bin/sh", "-c", STUB, "kiln-sandbox");
    var mounts = new ArrayList<String>(java.util.Arrays.asList(
        mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
        mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
        mount("/dev/pts", "devpts", "devpts",
            List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
        mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
        mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
        mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")),
        mount("/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec", "nodev", "relatime", "ro")),
        mount("/usr", "bind", "/usr", List.of("rbind", "ro", "nosuid", "nodev")),
        mount("/etc", "bind", "/etc", List.of("rbind", "ro", "nosuid", "nodev")),
        linked() ? mount("/etc/resolv.conf", "bind", backend.network.resolvConf().toString(),
            List.of("bind", "ro", "nosuid", "nodev", "noexec")) : null,
        mount("/var/task", "bind", taskDir.toString(), List.of("bind", "ro", "nosuid", "nodev")),
        mount("/run/kiln", "bind", runDir.toString(), List.of("bind", "ro", "nosuid", "nodev", "noexec")),
        mount(Launch.OUTPUT_DIR, "bind", outputDir.toString(), List.of("bind", "rw", "nosuid", "nodev", "noexec")),
        mount("/tmp", "tmpfs", "tmpfs",
            List.of("nosuid", "nodev", "mode=1777", "size=" + limits.ephemeralStorageMb() + "m"))));
    if (zygote) {
      mounts.add(mount(ZYGOTE_FULL_PROC + "/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")));
    }
    mounts.removeIf(java.util.Objects::isNull);
    if (backend.runtimeDir != null) {
      mounts.add(mount("/var/runtime", "bind", backend.runtimeDir.toString(), List.of("rbind", "ro", "nosuid", "nodev")));
    }
    var namespaces = new ArrayList<>(List.of("pid", "ipc", "uts", "mount"));
    if (!limits.network()) namespaces.add("network");
    var ns = new StringBuilder();
    for (String n : namespaces) ns.append(ns.isEmpty() ? "" : ",").append("{\"type\":").append(Json.str(n)).append('}');
    String noCaps = "[]";
    // crun installs this program as it is, instead of compiling linux.seccomp.
    String annotations = confinedFilter == null ? "" : ",\n  \"annotations\": {\"run.oci.seccomp_bpf_data\": "
        + Json.str(java.util.Base64.getEncoder().encodeToString(confinedFilter)) + "}";
    return """
        {
          "ociVersion": "1.0.0",
          "process": {
            "terminal": false,
            "user": {"uid": 65534, "gid": 65534},
            "args": %s,
            "env": [%s],
            "cwd": "/var/task",
            "capabilities": {"bounding": %s, "effective": %s, "inheritable": %s, "permitted": %s, "ambient": %s},
            "rlimits": [
              {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024},
              {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}
            ],
            "noNewPrivileges": true,
            "oomScoreAdj": 500
          },
          "root": {"path": %s, "readonly": true},
          "hostname": "kiln",
          "mounts": [%s],
          "linux": {
            "namespaces": [%s],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
              "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]%s
          }%s
        }
        """.formatted(Json.strs(args), Json.str("PATH=" + DEFAULT_PATH), noCaps, noCaps, noCaps, noCaps, noCaps,
        Json.str(backend.rootfs.toString()), String.join(",\n    ", mounts), ns,
        seccomp == null ? "" : ",\n    \"seccomp\": " + seccomp, annotations);
  }

  private static String mount(String destination, String type, String source, List<String> options) {
    return "{\"destination\":" + Json.str(destination) + ",\"type\":" + Json.str(type) + ",\"source\":"
        + Json.str(source) + ",\"options\":" + Json.strs(options) + "}";
  }
}
