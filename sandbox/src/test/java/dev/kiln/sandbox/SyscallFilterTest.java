package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The system call filters in real crun sandboxes: what crun installs from {@link OciSeccomp} for functions and
 * zygotes, and the {@link SeccompBpf} program a zygote's fork installs on itself (as the Python bootstrap does:
 * prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) with the file at {@code /run/kiln}). A Python probe makes
 * each call through ctypes and prints its errno.
 */
@Timeout(120)
class SyscallFilterTest {
  /** Prints "name=0" or "name=<errno>" for each call named on the command line, in order. */
  static final String PROBE = """
      import ctypes, os, sys, threading, socket, subprocess
      libc = ctypes.CDLL(None, use_errno=True)
      L = ctypes.c_long

      def sc(nr, *args):
          r = libc.syscall(L(nr), *[L(a) for a in args])
          return 0 if r >= 0 else ctypes.get_errno()

      NEWUSER, NEWNS, NEWNET, NEWIPC, NEWUTS, NEWPID = 0x10000000, 0x20000, 0x40000000, 0x8000000, 0x4000000, 0x20000000

      def install_fork_filter():
          prog = open("/run/kiln/fork-seccomp.bpf", "rb").read()
          buf = ctypes.create_string_buffer(prog, len(prog))
          class Fprog(ctypes.Structure):
              _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
          fprog = Fprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
          r = libc.prctl(22, 2, ctypes.byref(fprog), 0, 0)  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
          return 0 if r == 0 else ctypes.get_errno()

      def thread():
          t = threading.Thread(target=lambda: None); t.start(); t.join(); return 0

      def netlink(proto):
          try:
              socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto).close(); return 0
          except OSError as e:
              return e.errno

      calls = {
          "unshare-user": lambda: sc(272, NEWUSER),
          "unshare-fork": lambda: sc(272, NEWUSER | NEWNS | NEWNET | NEWIPC | NEWUTS),
          "unshare-cgroup": lambda: sc(272, NEWUSER | 0x2000000),
          "unshare-pid": lambda: sc(272, NEWPID),  # last: a process cannot start threads after it
          "mount-tmpfs": lambda: libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None) and ctypes.get_errno(),
          "keyctl": lambda: sc(250, 0, -3, 0),
          "io_uring_setup": lambda: sc(425, 1, 0),
          "bpf": lambda: sc(321, 0, 0, 0),
          "ptrace": lambda: sc(101, 16, 1),
          "open_by_handle_at": lambda: sc(304, -100, 0, 0),
          "clone3": lambda: sc(435, 0, 0),
          "personality-norandom": lambda: sc(135, 0x40000),
          "personality-query": lambda: sc(135, 0xffffffff),
          "netlink-route": lambda: netlink(0),
          "netlink-audit": lambda: netlink(9),
          "thread": thread,
          "subprocess": lambda: subprocess.run(["/bin/true"]).returncode,
          "install-fork-filter": install_fork_filter,
      }
      for name in sys.argv[1:]:
          if name == "status":
              print("status=" + [l.split()[1] for l in open("/proc/self/status") if l.startswith("Seccomp:")][0])
          else:
              print("%s=%s" % (name, calls[name]()), flush=True)
      """;

  @TempDir Path temp;
  Path code;
  CrunBackend backend;

  @BeforeAll
  static void crunAvailable() {
    String reason = CrunBackend.unavailableReason();
    assumeTrue(reason == null, "crun sandboxes unavailable here: " + reason);
  }

  @BeforeEach
  void setUp() throws Exception {
    code = Files.createDirectories(temp.resolve("code"));
    Files.writeString(code.resolve("probe.py"), PROBE);
    backend = new CrunBackend(temp.resolve("sandboxes"), null);
  }

  @AfterEach
  void tearDown() {
    if (backend != null) backend.close();
  }

  private List<String> probe(Sandbox s, Map<String, Path> runFiles, String... calls) throws Exception {
    var out = new Runs.Output();
    var command = new java.util.ArrayList<>(List.of("/usr/bin/python3", "/var/task/probe.py"));
    command.addAll(List.of(calls));
    s.launch(new Launch(command, Map.of(), code, 256, runFiles, false), out::add);
    assertThat(s.exited().get(60, TimeUnit.SECONDS).code()).as("probe output %s", out.lines()).isZero();
    return out.lines();
  }

  @Test
  void functionSandboxesDenyThePolicyAndRunOrdinaryWork() throws Exception {
    try (Sandbox s = backend.prepare(SandboxLimits.DEFAULTS)) {
      assertThat(probe(s, Map.of(), "status", "unshare-user", "mount-tmpfs", "keyctl", "io_uring_setup", "bpf",
          "ptrace", "open_by_handle_at", "clone3", "personality-norandom", "personality-query", "netlink-route",
          "netlink-audit", "thread", "subprocess")).containsExactly("status=2", "unshare-user=1", "mount-tmpfs=1",
          "keyctl=1", "io_uring_setup=1", "bpf=1", "ptrace=1", "open_by_handle_at=1", "clone3=38",
          "personality-norandom=1", "personality-query=0", "netlink-route=0", "netlink-audit=1", "thread=0",
          "subprocess=0");
    }
  }

  @Test
  void aCallThroughTheX32AbiKillsTheProcess() throws Exception {
    try (Sandbox s = backend.prepare(SandboxLimits.DEFAULTS)) {
      var out = new Runs.Output();
      s.launch(new Launch(List.of("/usr/bin/python3", "-c",
          "import ctypes; ctypes.CDLL(None).syscall(ctypes.c_long(0x40000000 | 39)); print('survived')"),
          Map.of(), code, 256), out::add);
      assertThat(s.exited().get(60, TimeUnit.SECONDS).code()).isEqualTo(128 + 31); // SIGSYS
      assertThat(out.lines()).doesNotContain("survived");
    }
  }

  @Test
  void zygoteSandboxesLetForksIsolateThemselvesThenTheForkFilterClosesTheRest() throws Exception {
    Path program = backend.forkFilterProgram().orElseThrow();
    try (Sandbox s = backend.prepareZygote(SandboxLimits.DEFAULTS)) {
      // what the zygote itself may do (a fork's isolation), then the fork's own filter on top of the zygote's
      assertThat(probe(s, Map.of("fork-seccomp.bpf", program), "status", "keyctl", "unshare-fork", "mount-tmpfs",
          "install-fork-filter", "unshare-user", "mount-tmpfs", "keyctl", "io_uring_setup", "ptrace", "clone3",
          "personality-norandom", "netlink-audit", "netlink-route", "thread", "subprocess", "status", "unshare-pid"))
          .containsExactly("status=2", "keyctl=1", "unshare-fork=0", "mount-tmpfs=0", "install-fork-filter=0",
              "unshare-user=1", "mount-tmpfs=1", "keyctl=1", "io_uring_setup=1", "ptrace=1", "clone3=38",
              "personality-norandom=1", "netlink-audit=1", "netlink-route=0", "thread=0", "subprocess=0", "status=2", "unshare-pid=1");
    }
  }

  @Test
  void zygoteSandboxesAllowAPidNamespaceButNoCgroupNamespace() throws Exception {
    try (Sandbox s = backend.prepareZygote(SandboxLimits.DEFAULTS)) {
      assertThat(probe(s, Map.of(), "unshare-cgroup", "unshare-fork", "unshare-pid"))
          .containsExactly("unshare-cgroup=1", "unshare-fork=0", "unshare-pid=0");
    }
  }

  @Test
  void withSeccompOffNothingIsFiltered() throws Exception {
    backend.close();
    backend = new CrunBackend(temp.resolve("sandboxes-off"), null, SeccompMode.OFF);
    assertThat(backend.forkFilterProgram()).isEmpty();
    try (Sandbox s = backend.prepare(SandboxLimits.DEFAULTS)) {
      assertThat(probe(s, Map.of(), "status", "keyctl", "unshare-user")).containsExactly("status=0", "keyctl=0",
          "unshare-user=0");
    }
  }
}
