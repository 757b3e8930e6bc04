package dev.kiln.sandbox;

import java.util.Map;

/**
 * Numbers of the x86_64 system calls {@link SyscallPolicy} names (from the kernel's {@code asm/unistd_64.h}; they
 * never change once a kernel release has them). crun resolves names itself; the BPF program for forks needs numbers.
 */
final class X86_64Syscalls {
  /** {@code AUDIT_ARCH_X86_64}: what {@code seccomp_data.arch} holds for a call through the 64-bit ABI. */
  static final int AUDIT_ARCH = 0xC000003E;
  /** Set in the number of every x32-ABI call. */
  static final int X32_BIT = 0x4000_0000;

  private static final Map<String, Integer> NUMBERS = Map.ofEntries(
      Map.entry("socket", 41),
      Map.entry("clone", 56),
      Map.entry("ptrace", 101),
      Map.entry("syslog", 103),
      Map.entry("uselib", 134),
      Map.entry("personality", 135),
      Map.entry("ustat", 136),
      Map.entry("sysfs", 139),
      Map.entry("vhangup", 153),
      Map.entry("modify_ldt", 154),
      Map.entry("pivot_root", 155),
      Map.entry("_sysctl", 156),
      Map.entry("adjtimex", 159),
      Map.entry("chroot", 161),
      Map.entry("acct", 163),
      Map.entry("settimeofday", 164),
      Map.entry("mount", 165),
      Map.entry("umount2", 166),
      Map.entry("swapon", 167),
      Map.entry("swapoff", 168),
      Map.entry("reboot", 169),
      Map.entry("sethostname", 170),
      Map.entry("setdomainname", 171),
      Map.entry("iopl", 172),
      Map.entry("ioperm", 173),
      Map.entry("init_module", 175),
      Map.entry("delete_module", 176),
      Map.entry("quotactl", 179),
      Map.entry("nfsservctl", 180),
      Map.entry("lookup_dcookie", 212),
      Map.entry("clock_settime", 227),
      Map.entry("kexec_load", 246),
      Map.entry("add_key", 248),
      Map.entry("request_key", 249),
      Map.entry("keyctl", 250),
      Map.entry("unshare", 272),
      Map.entry("perf_event_open", 298),
      Map.entry("name_to_handle_at", 303),
      Map.entry("open_by_handle_at", 304),
      Map.entry("clock_adjtime", 305),
      Map.entry("setns", 308),
      Map.entry("process_vm_readv", 310),
      Map.entry("process_vm_writev", 311),
      Map.entry("kcmp", 312),
      Map.entry("finit_module", 313),
      Map.entry("kexec_file_load", 320),
      Map.entry("bpf", 321),
      Map.entry("userfaultfd", 323),
      Map.entry("io_uring_setup", 425),
      Map.entry("io_uring_enter", 426),
      Map.entry("io_uring_register", 427),
      Map.entry("open_tree", 428),
      Map.entry("move_mount", 429),
      Map.entry("fsopen", 430),
      Map.entry("fsconfig", 431),
      Map.entry("fsmount", 432),
      Map.entry("fspick", 433),
      Map.entry("clone3", 435),
      Map.entry("pidfd_getfd", 438),
      Map.entry("process_madvise", 440),
      Map.entry("mount_setattr", 442),
      Map.entry("quotactl_fd", 443));

  private X86_64Syscalls() {}

  /**
   * Every x86_64 call by name (the resource {@code x86_64-syscalls.txt}): a learned profile names whatever calls a
   * function made, not only those {@link SyscallPolicy} denies.
   */
  private static final Map<String, Integer> COMPLETE = loadComplete();

  static int number(String name) {
    Integer n = NUMBERS.get(name);
    if (n == null) n = COMPLETE.get(name);
    if (n == null) n = unnamed(name);
    if (n == null) throw new IllegalArgumentException("no x86_64 number known for system call " + name);
    return n;
  }

  /** Whether {@code name} is an x86_64 system call this table knows. */
  static boolean known(String name) {
    return NUMBERS.containsKey(name) || COMPLETE.containsKey(name) || unnamed(name) != null;
  }

  /** The number of a call this table has no name for, as {@link #name(int)} spells it ({@code syscall_467}). */
  private static Integer unnamed(String name) {
    if (!name.matches("syscall_[0-9]{1,3}")) return null;
    int n = Integer.parseInt(name.substring("syscall_".length()));
    return n < 1024 ? n : null;
  }

  /** The name of call {@code number}, or {@code syscall_<number>} for a call this table does not know. */
  static String name(int number) {
    for (var e : COMPLETE.entrySet()) if (e.getValue() == number) return e.getKey();
    return "syscall_" + number;
  }

  private static Map<String, Integer> loadComplete() {
    var table = new java.util.HashMap<String, Integer>();
    try (var in = X86_64Syscalls.class.getResourceAsStream("x86_64-syscalls.txt")) {
      if (in == null) throw new IllegalStateException("x86_64-syscalls.txt is missing from the class path");
      for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).split("\n")) {
        if (line.isBlank() || line.startsWith("#")) continue;
        String[] f = line.trim().split(" ");
        table.put(f[0], Integer.parseInt(f[1]));
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return Map.copyOf(table);
  }

  static Map<String, Integer> all() {
    return NUMBERS;
  }
}
