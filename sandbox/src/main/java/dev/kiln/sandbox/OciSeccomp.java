package dev.kiln.sandbox;

import java.util.ArrayList;

/**
 * A {@link SyscallPolicy} as the OCI runtime spec's {@code linux.seccomp} object, which crun compiles with libseccomp:
 * allow by default, the policy's rules fail with their errno, x86_64 only (libseccomp kills a process that calls
 * through another ABI: x32 numbers or 32-bit {@code int 0x80}).
 */
final class OciSeccomp {
  private OciSeccomp() {}

  static String render(SyscallPolicy policy) {
    var entries = new ArrayList<String>();
    for (var rule : policy.rules()) {
      var entry = new StringBuilder("{\"names\":[").append(Json.str(rule.syscall()))
          .append("],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":").append(rule.errno());
      if (!rule.when().isEmpty()) {
        entry.append(",\"args\":[");
        for (int i = 0; i < rule.when().size(); i++) {
          var check = rule.when().get(i);
          if (i > 0) entry.append(',');
          // SCMP_CMP_MASKED_EQ: "value" is the mask, "valueTwo" what the masked argument must equal.
          entry.append("{\"index\":").append(check.index()).append(",\"value\":")
              .append(Long.toUnsignedString(check.mask())).append(",\"valueTwo\":")
              .append(Long.toUnsignedString(check.value())).append(",\"op\":\"SCMP_CMP_MASKED_EQ\"}");
        }
        entry.append(']');
      }
      entries.add(entry.append('}').toString());
    }
    return "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[\n      "
        + String.join(",\n      ", entries) + "]}";
  }
}
