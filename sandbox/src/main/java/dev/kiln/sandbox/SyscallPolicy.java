package dev.kiln.sandbox;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * Which system calls a sandbox may not make: groups of calls, each with the reason it is denied, written once and
 * rendered twice, as the OCI {@code linux.seccomp} section crun installs ({@link OciSeccomp}) and as a classic BPF
 * program a forked Python child installs on itself ({@link SeccompBpf}).
 *
 * <p>It is a deny list (everything not listed is allowed) because functions bring arbitrary native code and
 * runtimes: an allow list would break the first function that calls something Kiln never saw. What is denied is
 * what gives a process powers beyond its sandbox or reaches kernel code no function needs. System calls of the
 * x32 ABI and of other architectures (32-bit {@code int 0x80}) are not in the list because the process is killed
 * on them before the list is consulted: they reach other syscall tables, where the numbers below mean other calls.
 *
 * @param name what the policy is for
 * @param groups the denied calls, by reason
 */
public record SyscallPolicy(String name, List<Group> groups) {

  /**
   * {@code (args[index] & mask) == value} on the 64-bit argument register. The only comparison used: libseccomp
   * compares whole registers, so a check on an {@code int} argument must mask the low 32 bits or a caller could set
   * high bits the kernel ignores.
   */
  public record ArgCheck(int index, long mask, long value) {
    public ArgCheck {
      if (index < 0 || index > 5) throw new IllegalArgumentException("argument index 0-5: " + index);
      if ((value & ~mask) != 0) throw new IllegalArgumentException("value has bits outside the mask");
    }

    /** The low 32 bits of the argument equal {@code value}: for {@code int} arguments. */
    static ArgCheck int32(int index, long value) {
      return new ArgCheck(index, 0xffff_ffffL, value);
    }

    /** Every bit of {@code bits} is set. */
    static ArgCheck allSet(int index, long bits) {
      return new ArgCheck(index, bits, bits);
    }
  }

  /**
   * The call fails with {@code errno} when every check holds (always, without checks). At most one check per
   * argument: crun turns several checks of one argument into alternatives, not a conjunction.
   */
  public record Rule(String syscall, int errno, List<ArgCheck> when) {
    public Rule {
      when = List.copyOf(when);
      var seen = new HashSet<Integer>();
      for (var c : when) {
        if (!seen.add(c.index())) throw new IllegalArgumentException(syscall + ": two checks of argument " + c.index());
      }
      X86_64Syscalls.number(syscall); // known
    }
  }

  /** Denied calls that share a reason. */
  public record Group(String name, String reason, List<Rule> rules) {
    public Group {
      rules = List.copyOf(rules);
    }
  }

  public SyscallPolicy {
    groups = List.copyOf(groups);
  }

  static final int EPERM = 1;
  static final int ENOSYS = 38;

  static final long CLONE_NEWTIME = 0x80;
  static final long CLONE_NEWNS = 0x0002_0000;
  static final long CLONE_NEWCGROUP = 0x0200_0000;
  static final long CLONE_NEWUTS = 0x0400_0000;
  static final long CLONE_NEWIPC = 0x0800_0000;
  static final long CLONE_NEWUSER = 0x1000_0000;
  static final long CLONE_NEWPID = 0x2000_0000;
  static final long CLONE_NEWNET = 0x4000_0000;
  /** Namespace flags clone(2) takes (CLONE_NEWTIME is only valid for unshare and clone3; on clone it is signal bits). */
  static final List<Long> CLONE_NAMESPACE_FLAGS =
      List.of(CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET);

  static final int AF_NETLINK = 16;
  static final int AF_ALG = 38;

  /** The filter of every function sandbox. */
  public static SyscallPolicy forFunctions() {
    return new SyscallPolicy("function", groups(false));
  }

  /**
   * The filter of a zygote's sandbox (a Python runtime that forks environments, see {@link ForkedSandbox}): the
   * function's, except what a fork needs to isolate itself before it installs the function filter on itself
   * ({@link SeccompBpf}): unshare with user, mount, network, IPC, UTS and PID namespaces, mount and umount2 (its
   * own /tmp), sethostname. The zygote's own code (the function's init) can use these too; the forks cannot.
   */
  public static SyscallPolicy forZygotes() {
    return new SyscallPolicy("zygote", groups(true));
  }

  private static List<Group> groups(boolean zygote) {
    var groups = new ArrayList<Group>();

    var namespaces = new ArrayList<Rule>();
    if (zygote) { // namespaces a fork never makes
      namespaces.add(new Rule("unshare", EPERM, List.of(ArgCheck.allSet(0, CLONE_NEWCGROUP))));
      namespaces.add(new Rule("unshare", EPERM, List.of(ArgCheck.allSet(0, CLONE_NEWTIME))));
    } else {
      namespaces.add(always("unshare"));
    }
    namespaces.add(always("setns"));
    for (long flag : CLONE_NAMESPACE_FLAGS) namespaces.add(new Rule("clone", EPERM, List.of(ArgCheck.allSet(0, flag))));
    // clone3 passes its flags in memory, which seccomp cannot read. ENOSYS (not EPERM) makes glibc, the JVM and
    // libuv fall back to clone, whose flags are checked above.
    namespaces.add(new Rule("clone3", ENOSYS, List.of()));
    groups.add(new Group("namespaces",
        "A new user namespace makes its creator root inside it (unshare -Ur), which unlocks mounts and most of the"
            + " kernel code container escapes go through; joining another namespace leaves the sandbox. A function"
            + " runs in the namespaces Kiln made and never needs others.",
        namespaces));

    var mounts = new ArrayList<Rule>();
    for (String call : List.of("mount", "umount2")) if (!zygote) mounts.add(always(call));
    for (String call : List.of("pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
        "fspick", "mount_setattr")) {
      mounts.add(always(call));
    }
    groups.add(new Group("mounts",
        "The file system a function sees is fixed by Kiln (read-only root and code, its own /tmp). Mounting is only"
            + " possible after making a user namespace, and the new mount API is recent, much-changed kernel code.",
        mounts));

    groups.add(new Group("keyrings",
        "Kernel keyrings are not isolated by the sandbox's namespaces, and the user keyring belongs to a uid: every"
            + " sandbox runs as uid 65534, so functions of different accounts would share one.",
        alwaysAll("keyctl", "add_key", "request_key")));

    groups.add(new Group("io_uring",
        "Operations submitted through an io_uring ring are performed by the kernel without passing this filter, and"
            + " io_uring has been a leading source of kernel privilege escalations. Runtimes fall back to threads.",
        alwaysAll("io_uring_setup", "io_uring_enter", "io_uring_register")));

    groups.add(new Group("bpf and perf",
        "Loading programs into the kernel and reading hardware performance counters: kernel attack surface and a side"
            + " channel on code of other tenants sharing the CPU.",
        alwaysAll("bpf", "perf_event_open")));

    groups.add(new Group("other processes",
        "Reading, writing or steering another process (its memory, file descriptors, execution). A sandbox's own"
            + " processes share its uid and namespaces, so the kernel's usual checks would let them at each other;"
            + " no function needs a debugger's powers.",
        alwaysAll("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise")));

    groups.add(new Group("kernel modules", "Code loaded into the kernel itself.",
        alwaysAll("init_module", "finit_module", "delete_module")));

    groups.add(new Group("whole machine",
        "Operations on the host as a whole: another kernel, reboot, swap, process accounting, disk quotas, the kernel"
            + " log (it shows other tenants' kernel messages) and I/O ports.",
        alwaysAll("kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
            "syslog", "vhangup", "iopl", "ioperm")));

    groups.add(new Group("userfaultfd",
        "Lets a process pause kernel code at a page fault of its choosing: the usual tool to win a race in a kernel"
            + " exploit.",
        alwaysAll("userfaultfd")));

    groups.add(new Group("file handles",
        "Opening files by file-system handle skips path lookup and mount boundaries (the 'shocker' container escape).",
        alwaysAll("open_by_handle_at", "name_to_handle_at")));

    groups.add(new Group("clock", "The clock is the host's, shared by every tenant.",
        alwaysAll("settimeofday", "clock_settime", "clock_adjtime", "adjtimex")));

    var personality = new ArrayList<Rule>();
    // Allowed: PER_LINUX (0) and the query 0xffffffff, i.e. low 32 bits all clear or all set. Any other value has a
    // set bit next to a clear one somewhere around the 32-bit ring: one rule per neighbouring pair.
    for (int bit = 0; bit < 32; bit++) {
      long set = 1L << bit;
      long next = 1L << ((bit + 1) % 32);
      personality.add(new Rule("personality", EPERM, List.of(new ArgCheck(0, set | next, set))));
    }
    groups.add(new Group("personality",
        "Execution domains other than plain Linux turn off address-space randomisation (ADDR_NO_RANDOMIZE), make data"
            + " executable (READ_IMPLIES_EXEC) or map page zero; only PER_LINUX and the query stay.",
        personality));

    var sockets = new ArrayList<Rule>();
    // Netlink protocols are 0-31 (the kernel refuses others): any of the five low bits set is not NETLINK_ROUTE (0).
    for (int bit = 0; bit < 5; bit++) {
      sockets.add(new Rule("socket", EPERM, List.of(ArgCheck.int32(0, AF_NETLINK), ArgCheck.allSet(2, 1L << bit))));
    }
    sockets.add(new Rule("socket", EPERM, List.of(ArgCheck.int32(0, AF_ALG))));
    groups.add(new Group("kernel sockets",
        "Netlink sockets other than NETLINK_ROUTE talk to kernel subsystems (audit, netfilter, uevents, crypto"
            + " configuration, ...); AF_ALG sockets expose the kernel's crypto code. NETLINK_ROUTE stays: glibc's"
            + " getaddrinfo and the runtimes' interface listings use it.",
        sockets));

    var identity = new ArrayList<Rule>();
    if (!zygote) identity.add(always("sethostname"));
    identity.add(always("setdomainname"));
    groups.add(new Group("host identity", "The sandbox's host name is Kiln's.", identity));

    groups.add(new Group("obsolete",
        "Interfaces no runtime uses any more, some with a history of kernel bugs (modify_ldt).",
        alwaysAll("uselib", "_sysctl", "ustat", "sysfs", "lookup_dcookie", "modify_ldt", "nfsservctl")));
    return groups;
  }

  private static Rule always(String syscall) {
    return new Rule(syscall, EPERM, List.of());
  }

  private static List<Rule> alwaysAll(String... syscalls) {
    return java.util.Arrays.stream(syscalls).map(SyscallPolicy::always).toList();
  }

  /** Every rule, in group order. */
  public List<Rule> rules() {
    return groups.stream().flatMap(g -> g.rules().stream()).toList();
  }
}
