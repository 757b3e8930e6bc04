package dev.kiln.sandbox;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A {@link SyscallPolicy} as a classic BPF program for {@code seccomp(SECCOMP_SET_MODE_FILTER)} /
 * {@code prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog)}: the bytes of an array of {@code struct sock_filter}
 * ({@code u16 code; u8 jt; u8 jf; u32 k}, little-endian), ready to be read into memory and installed.
 *
 * <p>It decides as crun's libseccomp filter does: a call through another architecture or the x32 ABI kills the
 * process; a listed call whose argument checks hold returns its errno; everything else is allowed. Calls not in the
 * policy only ever load the architecture and the number, so the kernel can cache them as always allowed (no filter
 * run at all for them).
 *
 * <p>Layout: the architecture and x32 checks, then one {@code jeq nr; ja block} pair per listed call, then
 * {@code ret ALLOW}; each call's block tries its rules in order and ends with its own {@code ret ALLOW}.
 */
final class SeccompBpf {
  // Classic BPF opcodes (linux/bpf_common.h).
  static final int LD_W_ABS = 0x20;
  static final int ALU_AND_K = 0x54;
  static final int JMP_JA = 0x05;
  static final int JMP_JEQ_K = 0x15;
  static final int JMP_JGE_K = 0x35;
  static final int RET_K = 0x06;
  // seccomp return values (linux/seccomp.h).
  static final int RET_KILL_PROCESS = 0x8000_0000;
  static final int RET_ERRNO = 0x0005_0000;
  static final int RET_ALLOW = 0x7fff_0000;
  // struct seccomp_data offsets.
  static final int OFFSET_NR = 0;
  static final int OFFSET_ARCH = 4;
  static final int OFFSET_ARGS = 16;
  /** The kernel's limit on one program (BPF_MAXINSNS). */
  static final int MAX_INSTRUCTIONS = 4096;

  record Insn(int code, int jt, int jf, int k) {
    Insn {
      if (jt < 0 || jt > 255 || jf < 0 || jf > 255) throw new IllegalStateException("jump too far: " + jt + "/" + jf);
    }
  }

  private SeccompBpf() {}

  /** The program as the bytes of its {@code struct sock_filter} array. */
  static byte[] compile(SyscallPolicy policy) {
    return bytes(instructions(policy, null));
  }

  /**
   * {@code policy} stacked with an allow list (a learned profile): the policy's rules first, as in
   * {@link #compile(SyscallPolicy)}; then any call not in {@code allowed} kills the process (and the kernel writes
   * an audit record naming it), while the calls in it are allowed.
   */
  static byte[] compileConfined(SyscallPolicy policy, java.util.Set<String> allowed) {
    return bytes(instructions(policy, allowed));
  }

  private static byte[] bytes(List<Insn> program) {
    var bytes = ByteBuffer.allocate(program.size() * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (var insn : program) {
      bytes.putShort((short) insn.code()).put((byte) insn.jt()).put((byte) insn.jf()).putInt(insn.k());
    }
    return bytes.array();
  }

  static List<Insn> instructions(SyscallPolicy policy) {
    return instructions(policy, null);
  }

  /** @param allowed the only calls allowed besides what the policy decides, or null for all */
  static List<Insn> instructions(SyscallPolicy policy, java.util.Set<String> allowed) {
    var bySyscall = new LinkedHashMap<String, List<SyscallPolicy.Rule>>();
    for (var rule : policy.rules()) bySyscall.computeIfAbsent(rule.syscall(), k -> new ArrayList<>()).add(rule);
    var blocks = new ArrayList<List<Insn>>();
    for (var e : bySyscall.entrySet()) {
      // As two stacked filters would decide: a call outside the allow list is killed, even one the policy denies.
      boolean allow = allowed == null || allowed.contains(e.getKey());
      blocks.add(allow ? block(e.getValue()) : List.of(new Insn(RET_K, 0, 0, RET_KILL_PROCESS)));
    }
    // The allow list after the policy's calls: one "jeq nr; ret ALLOW" pair each (no jump is ever long), in number
    // order, then KILL for everything else.
    var listed = allowed == null ? List.<Integer>of() : allowed.stream().filter(n -> !bySyscall.containsKey(n))
        .map(X86_64Syscalls::number).sorted().toList();
    int tail = allowed == null ? 1 : 2 * listed.size() + 1;

    var out = new ArrayList<Insn>();
    out.add(new Insn(LD_W_ABS, 0, 0, OFFSET_ARCH));
    out.add(new Insn(JMP_JEQ_K, 1, 0, X86_64Syscalls.AUDIT_ARCH));
    out.add(new Insn(RET_K, 0, 0, RET_KILL_PROCESS));
    out.add(new Insn(LD_W_ABS, 0, 0, OFFSET_NR));
    out.add(new Insn(JMP_JGE_K, 0, 2, X86_64Syscalls.X32_BIT)); // below: on to the list
    out.add(new Insn(JMP_JEQ_K, 1, 0, -1)); // -1 is no call at all (the kernel answers ENOSYS), not x32
    out.add(new Insn(RET_K, 0, 0, RET_KILL_PROCESS));
    int dispatchEnd = out.size() + 2 * bySyscall.size() + tail; // index of the first block
    int blockStart = dispatchEnd;
    int i = 0;
    for (String syscall : bySyscall.keySet()) {
      out.add(new Insn(JMP_JEQ_K, 0, 1, X86_64Syscalls.number(syscall)));
      int ja = out.size();
      out.add(new Insn(JMP_JA, 0, 0, blockStart - (ja + 1)));
      blockStart += blocks.get(i++).size();
    }
    for (int nr : listed) {
      out.add(new Insn(JMP_JEQ_K, 0, 1, nr));
      out.add(new Insn(RET_K, 0, 0, RET_ALLOW));
    }
    out.add(new Insn(RET_K, 0, 0, allowed == null ? RET_ALLOW : RET_KILL_PROCESS));
    blocks.forEach(out::addAll);
    if (out.size() > MAX_INSTRUCTIONS) throw new IllegalStateException("filter too long: " + out.size());
    return out;
  }

  /** One call's rules: each returns its errno when its checks hold; none holding allows the call. */
  private static List<Insn> block(List<SyscallPolicy.Rule> rules) {
    var out = new ArrayList<Insn>();
    for (var rule : rules) {
      var checks = new ArrayList<List<Insn>>(); // each falls through when it holds; FAIL = jump past the rule
      for (var check : rule.when()) checks.add(check(check));
      int length = checks.stream().mapToInt(List::size).sum() + 1;
      int at = 0;
      for (var c : checks) {
        for (var insn : c) {
          int fail = length - at - 1; // from the next instruction to the first of the next rule
          out.add(insn.jt() == FAIL ? new Insn(insn.code(), fail, insn.jf(), insn.k())
              : insn.jf() == FAIL ? new Insn(insn.code(), insn.jt(), fail, insn.k()) : insn);
          at++;
        }
      }
      out.add(new Insn(RET_K, 0, 0, RET_ERRNO | (rule.errno() & 0xffff)));
    }
    out.add(new Insn(RET_K, 0, 0, RET_ALLOW));
    return out;
  }

  /** Placeholder jump target: "this check does not hold", resolved by {@link #block}. */
  private static final int FAIL = 255;

  /** {@code (arg & mask) == value} on both 32-bit halves; a half whose mask is zero always holds. */
  private static List<Insn> check(SyscallPolicy.ArgCheck check) {
    var out = new ArrayList<Insn>();
    int low = OFFSET_ARGS + 8 * check.index();
    half(out, low, (int) check.mask(), (int) check.value());
    half(out, low + 4, (int) (check.mask() >>> 32), (int) (check.value() >>> 32));
    return out;
  }

  private static void half(List<Insn> out, int offset, int mask, int value) {
    if (mask == 0) return; // value has no bits outside the mask (ArgCheck), so it is 0 too: always holds
    out.add(new Insn(LD_W_ABS, 0, 0, offset));
    if (mask != -1) out.add(new Insn(ALU_AND_K, 0, 0, mask));
    out.add(new Insn(JMP_JEQ_K, 0, FAIL, value));
  }
}
