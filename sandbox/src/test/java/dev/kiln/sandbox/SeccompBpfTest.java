package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The forks' BPF program, decoded from its bytes and run by a classic-BPF interpreter written from the kernel's
 * rules (seccomp_data layout, 32-bit accumulator, forward jumps only): every rule of the policy must deny exactly
 * the calls it describes and nothing else. {@link SyscallFilterTest} runs the same program in the kernel.
 */
class SeccompBpfTest {
  static final int KILL = SeccompBpf.RET_KILL_PROCESS;
  static final int ALLOW = SeccompBpf.RET_ALLOW;
  static final int EPERM = SeccompBpf.RET_ERRNO | 1;
  static final int ENOSYS = SeccompBpf.RET_ERRNO | 38;

  final int[][] program = decode(SeccompBpf.compile(SyscallPolicy.forFunctions()));

  static int[][] decode(byte[] bytes) {
    assertThat(bytes.length % 8).isZero();
    var b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    var insns = new int[bytes.length / 8][];
    for (int i = 0; i < insns.length; i++) {
      insns[i] = new int[] {b.getShort() & 0xffff, b.get() & 0xff, b.get() & 0xff, b.getInt()};
    }
    return insns;
  }

  /** Runs the program on one seccomp_data; fails on anything the kernel's checker would refuse. */
  static int run(int[][] program, int arch, int nr, long... args) {
    var data = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    data.putInt(0, nr).putInt(4, arch).putLong(8, 0x401000L);
    for (int i = 0; i < args.length; i++) data.putLong(16 + 8 * i, args[i]);
    int a = 0;
    for (int pc = 0; ; pc++) {
      assertThat(pc).as("ran off the end").isLessThan(program.length);
      int[] insn = program[pc];
      int code = insn[0], jt = insn[1], jf = insn[2], k = insn[3];
      switch (code) {
        case 0x20 -> { // ld [k]
          assertThat(k % 4 == 0 && k >= 0 && k < 64).as("aligned load inside seccomp_data: " + k).isTrue();
          a = data.getInt(k);
        }
        case 0x54 -> a &= k;
        case 0x05 -> pc += k;
        case 0x15 -> pc += a == k ? jt : jf;
        case 0x35 -> pc += Integer.compareUnsigned(a, k) >= 0 ? jt : jf;
        case 0x06 -> {
          return k;
        }
        default -> throw new AssertionError("unexpected opcode " + Integer.toHexString(code) + " at " + pc);
      }
    }
  }

  int call(String name, long... args) {
    return run(program, X86_64Syscalls.AUDIT_ARCH, X86_64Syscalls.number(name), args);
  }

  @Test
  void everyUnconditionalRuleDeniesItsCallWithItsErrno() {
    for (var rule : SyscallPolicy.forFunctions().rules()) {
      if (rule.when().isEmpty()) {
        assertThat(call(rule.syscall())).as(rule.syscall()).isEqualTo(SeccompBpf.RET_ERRNO | rule.errno());
      }
    }
    assertThat(call("clone3")).isEqualTo(ENOSYS);
    assertThat(call("unshare", 0x10000000L)).isEqualTo(EPERM);
  }

  @Test
  void callsOutsideThePolicyAreAllowed() {
    for (int nr : List.of(0, 1, 2, 3, 9, 202, 231, 334, 435 - 1, 450)) { // read write open close mmap futex ...
      if (!X86_64Syscalls.all().containsValue(nr)) {
        assertThat(run(program, X86_64Syscalls.AUDIT_ARCH, nr)).as("nr " + nr).isEqualTo(ALLOW);
      }
    }
    assertThat(run(program, X86_64Syscalls.AUDIT_ARCH, -1)).as("nr -1").isEqualTo(ALLOW);
  }

  @Test
  void otherArchitecturesAndTheX32AbiKill() {
    assertThat(run(program, 0x40000003, 39)).as("i386 getpid").isEqualTo(KILL);
    assertThat(run(program, X86_64Syscalls.AUDIT_ARCH, 0x40000000 | 39)).as("x32 getpid").isEqualTo(KILL);
    assertThat(run(program, X86_64Syscalls.AUDIT_ARCH, 0x40000000 | 272)).as("x32 unshare").isEqualTo(KILL);
  }

  @Test
  void cloneIsDeniedOnlyWithNamespaceFlags() {
    long thread = 0x3d0f00; // glibc's pthread_create flags
    assertThat(call("clone", thread)).isEqualTo(ALLOW);
    assertThat(call("clone", 0x01200011L)).as("fork").isEqualTo(ALLOW);
    for (long flag : SyscallPolicy.CLONE_NAMESPACE_FLAGS) {
      assertThat(call("clone", thread | flag)).as(Long.toHexString(flag)).isEqualTo(EPERM);
      assertThat(call("clone", 0x01200011L | flag | 0xff00_0000_0000_0000L)).isEqualTo(EPERM);
    }
  }

  @Test
  void personalityAllowsOnlyPerLinuxAndTheQuery() {
    assertThat(call("personality", 0)).isEqualTo(ALLOW);
    assertThat(call("personality", 0xffffffffL)).isEqualTo(ALLOW);
    // ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, MMAP_PAGE_ZERO, PER_LINUX32, and near-queries that would set them
    for (long value : List.of(0x0040000L, 0x0400000L, 0x0100000L, 0x8L, 0xfffffffeL, 0x7fffffffL, 0x80040000L,
        0xfffbffffL)) {
      assertThat(call("personality", value)).as(Long.toHexString(value)).isEqualTo(EPERM);
    }
  }

  @Test
  void netlinkIsAllowedOnlyForRoutingAndAlgSocketsNever() {
    long netlink = 16, raw = 3;
    assertThat(call("socket", netlink, raw, 0)).as("NETLINK_ROUTE").isEqualTo(ALLOW);
    for (long protocol = 1; protocol < 32; protocol++) {
      assertThat(call("socket", netlink, raw, protocol)).as("netlink " + protocol).isEqualTo(EPERM);
      assertThat(call("socket", netlink | 0xabc_0000_0000L, raw, protocol | 0x7_0000_0000L))
          .as("netlink with high bits the kernel ignores").isEqualTo(EPERM);
    }
    assertThat(call("socket", 38, 5, 0)).as("AF_ALG").isEqualTo(EPERM);
    assertThat(call("socket", 2, 1, 0)).as("AF_INET").isEqualTo(ALLOW);
    assertThat(call("socket", 10, 2, 17)).as("AF_INET6 UDP").isEqualTo(ALLOW);
    assertThat(call("socket", 1, 1, 0)).as("AF_UNIX").isEqualTo(ALLOW);
  }

  @Test
  void aConfinedProgramAllowsOnlyItsListAndKeepsThePolicysDenials() {
    var allowed = new java.util.TreeSet<>(List.of("read", "write", "mmap", "exit_group", "clone", "socket",
        "mount", "futex_wait"));
    for (String name : X86_64Syscalls.all().keySet()) if (name.startsWith("s")) allowed.add(name); // a long list
    var confined = decode(SeccompBpf.compileConfined(SyscallPolicy.forFunctions(), allowed));
    int arch = X86_64Syscalls.AUDIT_ARCH;
    for (String name : List.of("read", "write", "mmap", "exit_group", "futex_wait")) {
      assertThat(run(confined, arch, X86_64Syscalls.number(name))).as(name).isEqualTo(ALLOW);
    }
    for (String name : List.of("uname", "openat", "connect", "getpid")) {
      assertThat(run(confined, arch, X86_64Syscalls.number(name))).as(name).isEqualTo(KILL);
    }
    assertThat(run(confined, arch, X86_64Syscalls.number("mount"))).as("denied by policy, learned")
        .isEqualTo(EPERM);
    assertThat(run(confined, arch, X86_64Syscalls.number("keyctl"))).as("denied by policy, not learned")
        .isEqualTo(KILL);
    long thread = 0x3d0f00;
    assertThat(run(confined, arch, X86_64Syscalls.number("clone"), thread)).isEqualTo(ALLOW);
    assertThat(run(confined, arch, X86_64Syscalls.number("clone"), thread | SyscallPolicy.CLONE_NEWUSER))
        .isEqualTo(EPERM);
    assertThat(run(confined, arch, X86_64Syscalls.number("socket"), 2, 1, 0)).isEqualTo(ALLOW);
    assertThat(run(confined, arch, X86_64Syscalls.number("personality"), 0)).as("conditional, not learned")
        .isEqualTo(KILL);
    assertThat(run(confined, 0x40000003, 3)).as("i386").isEqualTo(KILL);
  }

  @Test
  void callsStraceHasNoNameForAreListedByNumber() {
    assertThat(SyscallRecording.parse(List.of("syscall", "----", "read", "syscall_0x1d3", "----", "total")))
        .containsExactly("read", "syscall_467");
    var confined = decode(SeccompBpf.compileConfined(SyscallPolicy.forFunctions(), java.util.Set.of("syscall_467")));
    assertThat(run(confined, X86_64Syscalls.AUDIT_ARCH, 467)).isEqualTo(ALLOW);
    assertThat(run(confined, X86_64Syscalls.AUDIT_ARCH, 466)).isEqualTo(KILL);
  }

  @Test
  void theZygoteFilterLetsForksIsolateThemselvesAndNothingMore() {
    var zygote = decode(SeccompBpf.compile(SyscallPolicy.forZygotes()));
    int arch = X86_64Syscalls.AUDIT_ARCH;
    long forkNamespaces = SyscallPolicy.CLONE_NEWUSER | SyscallPolicy.CLONE_NEWNS | SyscallPolicy.CLONE_NEWNET
        | SyscallPolicy.CLONE_NEWIPC | SyscallPolicy.CLONE_NEWUTS | SyscallPolicy.CLONE_NEWPID;
    assertThat(run(zygote, arch, X86_64Syscalls.number("unshare"), forkNamespaces)).isEqualTo(ALLOW);
    assertThat(run(zygote, arch, X86_64Syscalls.number("unshare"), forkNamespaces | SyscallPolicy.CLONE_NEWCGROUP))
        .isEqualTo(EPERM);
    for (String allowed : List.of("mount", "umount2", "sethostname")) {
      assertThat(run(zygote, arch, X86_64Syscalls.number(allowed))).as(allowed).isEqualTo(ALLOW);
    }
    for (String denied : List.of("setns", "keyctl", "io_uring_setup", "bpf", "ptrace", "open_by_handle_at",
        "pivot_root", "fsopen", "move_mount")) {
      assertThat(run(zygote, arch, X86_64Syscalls.number(denied))).as(denied).isEqualTo(EPERM);
    }
    assertThat(run(zygote, arch, X86_64Syscalls.number("clone"), SyscallPolicy.CLONE_NEWUSER)).isEqualTo(EPERM);
  }

  @Test
  void syscallNumbersMatchTheKernelHeaders() throws Exception {
    Path header = Path.of("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(header), "no kernel headers here");
    var numbers = new java.util.HashMap<String, Integer>();
    var define = Pattern.compile("#define __NR_(\\w+) (\\d+)");
    for (String line : Files.readAllLines(header)) {
      var m = define.matcher(line);
      if (m.matches()) numbers.put(m.group(1), Integer.parseInt(m.group(2)));
    }
    for (Map.Entry<String, Integer> e : X86_64Syscalls.all().entrySet()) {
      assertThat(e.getValue()).as(e.getKey()).isEqualTo(numbers.get(e.getKey()));
    }
  }

  @Test
  void theOciRenderingNamesEveryRuleWithMaskedComparisons() {
    String json = OciSeccomp.render(SyscallPolicy.forFunctions());
    assertThat(json).startsWith("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"]");
    var names = new ArrayList<String>();
    var m = Pattern.compile("\"names\":\\[\"(\\w+)\"\\]").matcher(json);
    while (m.find()) names.add(m.group(1));
    assertThat(names).containsExactlyElementsOf(SyscallPolicy.forFunctions().rules().stream()
        .map(SyscallPolicy.Rule::syscall).toList());
    assertThat(json).contains("{\"names\":[\"clone3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}");
  }
}
