package dev.kiln.sandbox;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sandboxes as crun containers: new pid, mount, ipc, uts and network namespaces; cgroup v1 limits
 * (memory without swap, pids, cpu shares, devices, freezer); a read-only skeleton root with {@code /usr}
 * and {@code /etc} bound read-only, the code read-only at {@code /var/task}, Kiln's runtimes read-only at
 * {@code /var/runtime}, a tmpfs {@code /tmp}; uid/gid 65534, no capabilities, no new privileges.
 *
 * <h2>How crun is run on this kind of host</h2>
 * crun 1.8.1 refuses the hybrid cgroup layout (v1 controllers plus a v2 mount at
 * {@code /sys/fs/cgroup/unified}). Each crun invocation therefore runs in a private mount namespace in
 * which that v2 mount is unmounted ({@code unshare -m}, then {@code umount}); the host is not changed.
 * Kiln creates each sandbox's cgroups itself and the wrapper shell joins them before it execs crun with
 * {@code --cgroup-manager=disabled}, so the container inherits them. That way the cgroup survives the
 * container (crun would remove its own at exit, taking the OOM-kill counter with it), and every cgroup
 * lives under {@code kiln/<hash of the root>/<sandbox id>} where a later backend on the same root can find
 * and clean it.
 *
 * <h2>Pre-created sandboxes</h2>
 * {@link #prepare} runs {@code crun run} in the foreground (the JVM's child, so its exit status is the
 * container's) with an idle shell as the container's process. The shell has already started the Runtime
 * API bridge; {@code launch} only hard-links the code into the task directory (a bind mount, so new files
 * appear inside), writes the memory limit and hands the shell its start script through stdin.
 *
 * <h2>Runtime API transport</h2>
 * Inside, the runtime must reach {@code http://127.0.0.1:9001} as on Lambda, while the sandbox's network
 * namespace keeps it away from the host's loopback and from every other sandbox. The worker listens on a
 * Unix socket per sandbox ({@code <root>/<id>/run/runtime.sock}, also bind-mounted read-only at
 * {@code /run/kiln}). Between the two:
 * <ul>
 *   <li>Default: a relay in the JVM. While preparing, Kiln opens a TCP listener on {@code 127.0.0.1:9001}
 *       <em>inside the sandbox's network namespace</em> ({@link NetNs}: one platform thread enters the
 *       namespace with setns(2), creates the socket, and returns) and forwards every connection accepted
 *       there to the sandbox's Unix socket ({@link RuntimeApiRelay}). The socket is bound before
 *       {@code prepare} returns, so a runtime can never connect too early.</li>
 *   <li>Fallback, when the JVM cannot make native calls: Debian's {@code socat} inside the sandbox, started
 *       by the idle shell in {@code prepare} ({@code TCP-LISTEN:9001,bind=127.0.0.1,fork
 *       UNIX-CONNECT:/run/kiln/runtime.sock}); the shell reports ready only once socat listens.</li>
 * </ul>
 * Why the relay by default: measured here, socat's start (it loads libssl, libcrypto and Kerberos
 * libraries) cost about 15 ms of CPU per sandbox, nearly half of all the CPU {@code prepare} needs, plus a
 * process, a pid and about 2 MB of memory in every idle sandbox; the relay costs a virtual thread. Either way a
 * sandbox can only ever reach its own socket.
 *
 * <h2>Network</h2>
 * Each sandbox also gets a point-to-point veth link while it is prepared, and reaches nothing through it until
 * {@link Launch#network()} is applied at launch (see {@link SandboxNetwork}: one nftables element update);
 * {@code /etc/resolv.conf} inside names Kiln's resolver. Without {@code nft}/{@code ip} the sandboxes keep
 * loopback only.
 *
 * <h2>{@code network = true}</h2>
 * The sandbox keeps the host's network namespace; its Runtime API port is then a free port on the host's
 * 127.0.0.1, and the sandbox can reach every service listening on the host's loopback. Kept for tests; functions
 * get a private namespace and a policy.
 */
final class CrunBackend implements SandboxBackend {
  private static final Logger log = LoggerFactory.getLogger(CrunBackend.class);
  static final Path SOCAT = Path.of("/usr/bin/socat");
  /**
   * Runs as root on the host, in a fresh private mount namespace made by unshare. $1: 1 to unmount the
   * cgroup2 mount crun cannot cope with; then cgroup.procs files to join, "--", and the command to exec.
   */
  private static final String WRAPPER = """
      if [ "$1" = 1 ]; then umount /sys/fs/cgroup/unified || exit 125; fi
      shift
      while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done
      shift
      exec "$@"
      """;

  private final Path crun;
  private final Path unshare;
  private final boolean hybrid;
  final Map<String, Path> cgroupMounts;
  final RootDir root;
  final Path runtimeDir;
  final Path crunState;
  final Path rootfs;
  /** Runtime API through socat inside each sandbox (fallback) instead of the JVM's relay (see {@link NetNs}). */
  final boolean useSocat;
  /** The sandboxes' veths, addresses and verdicts; null when this host cannot give sandboxes a network. */
  final SandboxNetwork network;
  private final Set<CrunSandbox> live = ConcurrentHashMap.newKeySet();
  private final Set<ForkedSandbox> liveForks = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  /** {@code linux.seccomp} of function sandboxes and of zygote sandboxes; null when system calls are not filtered. */
  private final String functionSeccomp;
  private final String zygoteSeccomp;
  /** The function filter as a BPF program forks install on themselves; null when not filtering. */
  private final Path forkFilterProgram;

  CrunBackend(Path root, Path runtimeDir) {
    this(root, runtimeDir, SeccompMode.DEFAULT, List.of());
  }

  CrunBackend(Path root, Path runtimeDir, boolean useSocat) {
    this(root, runtimeDir, useSocat, SeccompMode.DEFAULT, List.of());
  }

  CrunBackend(Path root, Path runtimeDir, SeccompMode seccomp) {
    this(root, runtimeDir, seccomp, List.of());
  }

  /** @param dnsUpstreams where the sandboxes' resolver forwards; empty for the host's own name servers */
  CrunBackend(Path root, Path runtimeDir, List<InetSocketAddress> dnsUpstreams) {
    this(root, runtimeDir, SeccompMode.DEFAULT, dnsUpstreams);
  }

  CrunBackend(Path root, Path runtimeDir, SeccompMode seccomp, List<InetSocketAddress> dnsUpstreams) {
    this(root, runtimeDir, NetNs.unavailableReason() != null, seccomp, dnsUpstreams);
  }

  /**
   * @param useSocat bridge the Runtime API with socat inside the sandbox even where the JVM relay works
   * @param seccomp whether sandboxes get Kiln's system call filter ({@link SyscallPolicy})
   * @param dnsUpstreams where the sandboxes' resolver forwards; null for sandboxes without a network (loopback
   *     only), as before networks
   */
  CrunBackend(Path root, Path runtimeDir, boolean useSocat, SeccompMode seccomp, List<InetSocketAddress> dnsUpstreams) {
    String reason = unavailableReason();
    if (reason != null) throw new SandboxException("crun sandboxes are not available: " + reason);
    if (useSocat && !Files.isExecutable(SOCAT)) {
      throw new SandboxException("socat is not installed at /usr/bin/socat (apt-get install socat); without the"
          + " JVM relay (" + NetNs.unavailableReason() + ") crun sandboxes need it for the Runtime API");
    }
    this.useSocat = useSocat;
    this.crun = Os.which("crun").orElseThrow();
    this.unshare = Os.which("unshare").orElseThrow();
    this.cgroupMounts = CgroupV1.mounts();
    this.hybrid = cgroup2MountedAt("/sys/fs/cgroup/unified");
    if (runtimeDir != null && !Files.isDirectory(runtimeDir)) {
      throw new SandboxException("runtime directory does not exist: " + runtimeDir);
    }
    this.runtimeDir = runtimeDir == null ? null : runtimeDir.toAbsolutePath().normalize();
    this.root = new RootDir(root);
    this.crunState = this.root.path.resolve(RootDir.CRUN_STATE);
    this.root.cleanupStale(cgroupMounts, wrap(List.of(), crunCommand("delete", "-f")));
    try {
      Files.createDirectories(crunState);
      this.rootfs = Skeleton.create(this.root.path.resolve(RootDir.ROOTFS));
      if (seccomp == SeccompMode.DEFAULT) {
        this.functionSeccomp = OciSeccomp.render(SyscallPolicy.forFunctions());
        this.zygoteSeccomp = OciSeccomp.render(SyscallPolicy.forZygotes());
        this.forkFilterProgram = this.root.path.resolve(".fork-seccomp.bpf");
        Files.write(forkFilterProgram, SeccompBpf.compile(SyscallPolicy.forFunctions()));
      } else {
        this.functionSeccomp = null;
        this.zygoteSeccomp = null;
        this.forkFilterProgram = null;
      }
    } catch (IOException e) {
      this.root.release();
      throw new SandboxException("cannot set up sandbox root " + this.root.path + ": " + e.getMessage(), e);
    }
    this.network = dnsUpstreams == null ? null : startNetwork(this.root, dnsUpstreams);
  }

  /** The sandboxes' network, or null (then each sandbox has loopback only, whatever its launch asks). */
  private static SandboxNetwork startNetwork(RootDir root, List<InetSocketAddress> dnsUpstreams) {
    String reason = SandboxNetwork.unavailableReason();
    if (reason == null && !Files.isRegularFile(Path.of("/etc/resolv.conf"), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      reason = "/etc/resolv.conf is not a regular file, so a sandbox's resolver cannot be bound over it";
    }
    if (reason == null) {
      try {
        return new SandboxNetwork(root.hash, dnsUpstreams, root.path.resolve(RootDir.RESOLV_CONF));
      } catch (SandboxException e) {
        reason = e.getMessage();
      }
    }
    log.warn("Sandboxes get no network ({}): every function is as with {}=none", reason, "KILN_NETWORK");
    return null;
  }

  /** Why crun sandboxes cannot work here, or null when they might (the self-test decides). */
  static String unavailableReason() {
    if (!Os.isLinux()) return "not Linux";
    if (Os.uid() != 0) return "not running as root";
    if (Os.which("crun").isEmpty()) return "crun is not installed (apt-get install crun)";
    if (Os.which("unshare").isEmpty()) return "unshare (util-linux) is not installed";
    if (NetNs.unavailableReason() != null && !Files.isExecutable(SOCAT)) {
      return "socat is not installed at /usr/bin/socat (apt-get install socat), and the JVM cannot enter"
          + " network namespaces (" + NetNs.unavailableReason() + ") to relay the Runtime API itself";
    }
    if (cgroup2MountedAt("/sys/fs/cgroup")) return "the host uses cgroup v2 only; Kiln's crun backend drives cgroup v1";
    return CgroupV1.unavailableReason(CgroupV1.mounts());
  }

  @Override
  public String name() {
    return "crun";
  }

  @Override
  public Sandbox prepare(SandboxLimits limits) {
    return prepare(limits, false);
  }

  @Override
  public Sandbox prepareZygote(SandboxLimits limits) {
    return prepare(limits, true);
  }

  @Override
  public java.util.Optional<Path> forkFilterProgram() {
    return java.util.Optional.ofNullable(forkFilterProgram);
  }

  @Override
  public Sandbox prepareConfined(SandboxLimits limits, Set<String> allowed) {
    if (functionSeccomp == null) {
      throw new SandboxException("system calls are not filtered on this node (kiln up --seccomp off): a learned"
          + " profile cannot be enforced");
    }
    var calls = new java.util.TreeSet<>(allowed);
    calls.addAll(CONFINED_BASE);
    for (String call : calls) {
      if (!X86_64Syscalls.known(call)) throw new SandboxException("not an x86_64 system call: " + call);
    }
    return prepare(limits, false, SeccompBpf.compileConfined(SyscallPolicy.forFunctions(), calls));
  }

  /**
   * Calls every confined sandbox may make whatever its function's profile says: what crun does between installing
   * the filter and starting the idle shell, and what the shell does until it starts the runtime, reports its exit
   * and exits: the training run only sees the shell from its idle read on, and strace counts a call when it
   * returns, so the shell's {@code wait} (rt_sigsuspend, still blocked when the recording stops) is never seen.
   * {@code kill}: the runtime's process stops itself until Kiln has noted its pid ({@code CrunSandbox#watchPids}).
   */
  static final Set<String> CONFINED_BASE = Set.of("execve", "brk", "mmap", "munmap", "mprotect", "arch_prctl",
      "set_tid_address", "set_robust_list", "rseq", "prlimit64", "access", "openat", "newfstatat", "fstat", "read",
      "write", "close", "pread64", "getrandom", "getuid", "geteuid", "getgid", "getegid", "getpid", "getppid",
      "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "fcntl", "dup2", "wait4", "clone", "fork",
      "vfork",
      "exit", "exit_group", "kill", "lseek", "ioctl", "getcwd", "chdir", "stat", "close_range", "capget",
      "capset", "prctl", "setgroups", "setuid", "setgid", "setresuid", "setresgid", "getdents64", "futex");

  private Sandbox prepare(SandboxLimits limits, boolean zygote) {
    return prepare(limits, zygote, null);
  }

  private Sandbox prepare(SandboxLimits limits, boolean zygote, byte[] confinedFilter) {
    if (closed.get()) throw new SandboxException("sandbox backend is closed");
    Path dir = root.newSandboxDir();
    CrunSandbox sandbox;
    try {
      sandbox = new CrunSandbox(this, dir, limits, zygote, zygote ? zygoteSeccomp : functionSeccomp,
          confinedFilter);
    } catch (RuntimeException e) {
      Os.deleteTreeQuietly(dir);
      throw e;
    }
    live.add(sandbox);
    try {
      sandbox.boot();
    } catch (RuntimeException e) {
      sandbox.close();
      throw e;
    }
    if (closed.get()) { // closed while we were preparing
      sandbox.close();
      throw new SandboxException("sandbox backend is closed");
    }
    return sandbox;
  }

  @Override
  public Sandbox prepareFork(Sandbox zygote, Path controlSocket, SandboxLimits limits) {
    if (closed.get()) throw new SandboxException("sandbox backend is closed");
    if (!(zygote instanceof CrunSandbox parent) || !live.contains(parent) || !parent.zygote) {
      throw new SandboxException("the zygote is not a live zygote sandbox of this backend");
    }
    Path dir = root.newSandboxDir();
    ForkedSandbox fork;
    try {
      fork = new ForkedSandbox(this, parent, controlSocket, dir, limits);
    } catch (RuntimeException e) {
      Os.deleteTreeQuietly(dir);
      throw e;
    }
    liveForks.add(fork);
    fork.fork();
    return fork;
  }

  @Override
  public boolean forks() {
    return !useSocat; // the child's Runtime API is opened in its own network namespace by the JVM
  }

  @Override
  public void protectHostPort(int port) {
    if (network != null) network.forbidPort(port);
  }

  void forgetFork(ForkedSandbox fork) {
    liveForks.remove(fork);
  }

  void forget(CrunSandbox sandbox) {
    live.remove(sandbox);
  }

  /** The crun command line, without the container id. */
  List<String> crunCommand(String... args) {
    var cmd = new ArrayList<>(List.of(crun.toString(), "--cgroup-manager=disabled", "--root", crunState.toString()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** {@code command} run in a private mount namespace fit for crun, after joining the given cgroups. */
  List<String> wrap(List<Path> procsFiles, List<String> command) {
    var cmd = new ArrayList<>(List.of(unshare.toString(), "-m", "--propagation", "private", "/bin/sh", "-c", WRAPPER,
        "kiln-crun", hybrid ? "1" : "0"));
    for (Path p : procsFiles) cmd.add(p.toString());
    cmd.add("--");
    cmd.addAll(command);
    return cmd;
  }

  private static boolean cgroup2MountedAt(String mountPoint) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String[] f = line.split(" ");
        int dash = List.of(f).indexOf("-");
        if (f.length > 4 && f[4].equals(mountPoint) && dash > 0 && dash + 1 < f.length && f[dash + 1].equals("cgroup2")) {
          return true;
        }
      }
    } catch (IOException ignored) {
      // not Linux
    }
    return false;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    for (ForkedSandbox f : List.copyOf(liveForks)) f.close();
    for (CrunSandbox s : List.copyOf(live)) s.close();
    CgroupV1.removeParents(cgroupMounts, root.cgroupBase());
    if (network != null) network.close();
    root.release();
  }
}
