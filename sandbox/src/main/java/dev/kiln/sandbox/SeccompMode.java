package dev.kiln.sandbox;

/** Whether sandboxes get Kiln's system call filter; the operator's {@code kiln up --seccomp}. */
public enum SeccompMode {
  /** Every sandbox gets {@link SyscallPolicy#forFunctions()} (zygotes {@link SyscallPolicy#forZygotes()}). */
  DEFAULT,
  /** No filter: the kernel's whole system call surface (for comparing costs, or a kernel the filter breaks). */
  OFF;

  /** {@code default} or {@code off}, as the command line spells them. */
  public static SeccompMode parse(String value) {
    return switch (value) {
      case "default" -> DEFAULT;
      case "off" -> OFF;
      default -> throw new IllegalArgumentException("--seccomp must be 'default' or 'off', not '" + value + "'");
    };
  }
}
