package dev.kiln.core;

import java.util.Map;

/**
 * Whether a function's system calls are learned or confined to what was learned, chosen with the reserved
 * environment variable {@value #VARIABLE} (unset: neither; every sandbox has the default filter either way).
 */
public enum SyscallProfileMode {
  /** Only the node's default filter. */
  OFF,
  /** New environments are traced: the calls of their start and first invocations are added to the profile. */
  LEARN,
  /** New environments may make only the calls of the learned profile; any other call kills the environment. */
  ENFORCE;

  public static final String VARIABLE = "KILN_SECCOMP_PROFILE";

  /**
   * The mode the function's environment variables choose.
   *
   * @throws KilnException InvalidParameterValueException naming the variable and what it accepts
   */
  public static SyscallProfileMode of(Map<String, String> environment) {
    String value = environment.get(VARIABLE);
    if (value == null) return OFF;
    return switch (value) {
      case "off" -> OFF;
      case "learn" -> LEARN;
      case "enforce" -> ENFORCE;
      default -> throw KilnException.invalid("Value '" + value + "' of " + VARIABLE
          + " is not one of learn, enforce, off.");
    };
  }
}
