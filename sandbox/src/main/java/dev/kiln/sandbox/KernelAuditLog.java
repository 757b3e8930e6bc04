package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The kernel's record of a process its seccomp filter killed ({@code audit: type=1326 ... pid=<host pid> ...
 * sig=31 ... syscall=<n>}), read from the kernel log with {@code dmesg} (root). The kernel writes one for every
 * {@code SECCOMP_RET_KILL_PROCESS}, unlike logged-but-allowed calls, whose records are rate-limited. The audit
 * thread writes asynchronously, so the record can appear a moment after the process died.
 */
final class KernelAuditLog {
  private static final Pattern SECCOMP_KILL =
      Pattern.compile("type=1326 .*?\\bpid=(\\d+)\\b.*?\\bsig=31\\b.*?\\barch=c000003e\\b.*?\\bsyscall=(\\d+)\\b");

  private KernelAuditLog() {}

  /** The call the filter killed one of {@code pids} for, looking for up to {@code waitMillis}. */
  static Optional<String> killedCall(Set<Long> pids, long waitMillis) {
    long deadline = System.currentTimeMillis() + waitMillis;
    while (true) {
      var found = scan(pids);
      if (found.isPresent() || System.currentTimeMillis() >= deadline) return found;
      Os.sleep(20);
    }
  }

  private static Optional<String> scan(Set<Long> pids) {
    String log;
    try {
      var dmesg = new ProcessBuilder(Os.which("dmesg").map(Object::toString).orElse("/usr/bin/dmesg"), "--raw")
          .redirectErrorStream(true).start();
      log = new String(dmesg.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      dmesg.waitFor();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
    String call = null;
    var m = SECCOMP_KILL.matcher(log);
    while (m.find()) { // the last record of one of the pids: pids are reused, the newest is this sandbox's
      if (pids.contains(Long.parseLong(m.group(1)))) call = X86_64Syscalls.name(Integer.parseInt(m.group(2)));
    }
    return Optional.ofNullable(call);
  }
}
