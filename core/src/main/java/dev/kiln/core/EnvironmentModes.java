package dev.kiln.core;

import java.util.Map;

/**
 * How a function version's execution environments are used, chosen through reserved environment
 * variables so that the choice is versioned with the function and every Lambda client can set it.
 *
 * @param reuse which invocations may share an environment
 * @param resetAboveMb retire an environment whose memory use exceeds this many MiB after an
 *     invocation (a fresh one replaces it); 0 for never
 * @param retryMaxAttempts how many fresh environments an invocation may take until it succeeds; 1
 *     for no retry
 * @param retrySuccessPattern an EventBridge-style filter pattern the result must match to count as
 *     a success, or null (then any result that is not a function error does)
 * @param retryConfigured whether the function asked for transactional attempts at all (then an
 *     environment whose attempt failed never serves again)
 * @param snapshots whether new environments start from a start-up snapshot when the runtime can make one
 *     ({@value #SNAPSHOT_VARIABLE}{@code =off} opts out)
 */
public record EnvironmentModes(
    Reuse reuse, int resetAboveMb, int retryMaxAttempts, String retrySuccessPattern, boolean retryConfigured,
    boolean snapshots) {

  public static final String REUSE_VARIABLE = "KILN_ENVIRONMENT_REUSE";
  public static final String RESET_VARIABLE = "KILN_RESET_ABOVE_MB";
  public static final String RETRY_ATTEMPTS_VARIABLE = "KILN_RETRY_MAX_ATTEMPTS";
  public static final String RETRY_SUCCESS_VARIABLE = "KILN_RETRY_SUCCESS";
  public static final String SNAPSHOT_VARIABLE = "KILN_SNAPSHOT";
  public static final int MAX_RETRY_ATTEMPTS = 10;

  /** Today's behaviour: environments are reused across requests and never reset or retried. */
  public static final EnvironmentModes DEFAULT = new EnvironmentModes(Reuse.REUSE, 0, 1, null, false, true);

  /** Which invocations may share an environment. */
  public enum Reuse {
    /** Any invocation of the version (Lambda's behaviour). */
    REUSE("reuse"),
    /** None: every invocation gets an environment of its own, retired after it. */
    PER_REQUEST("per-request"),
    /** Invocations of the same tenant (X-Amz-Tenant-Id) only. */
    PER_TENANT("per-tenant");

    private final String value;

    Reuse(String value) {
      this.value = value;
    }

    public String value() {
      return value;
    }
  }

  /**
   * The modes a function's environment variables choose.
   *
   * @throws KilnException InvalidParameterValueException naming the variable and what it accepts
   */
  public static EnvironmentModes of(Map<String, String> environment) {
    String reuse = environment.get(REUSE_VARIABLE);
    String reset = environment.get(RESET_VARIABLE);
    String attempts = environment.get(RETRY_ATTEMPTS_VARIABLE);
    String success = environment.get(RETRY_SUCCESS_VARIABLE);
    String snapshot = environment.get(SNAPSHOT_VARIABLE);
    if (snapshot != null && !snapshot.equals("auto") && !snapshot.equals("off")) {
      throw KilnException.invalid("Value '" + snapshot + "' of " + SNAPSHOT_VARIABLE + " is not one of auto, off.");
    }
    NetworkPolicy.of(environment); // validated here so a bad value is refused at create/update
    SyscallProfileMode.of(environment);
    if (reuse == null && reset == null && attempts == null && success == null && snapshot == null) {
      return DEFAULT;
    }
    if (success != null && attempts == null) {
      throw KilnException.invalid(RETRY_SUCCESS_VARIABLE + " takes effect only together with "
          + RETRY_ATTEMPTS_VARIABLE + " (1 to " + MAX_RETRY_ATTEMPTS + "): set both, or neither.");
    }
    return new EnvironmentModes(
        reuse == null ? Reuse.REUSE : reuse(reuse),
        reset == null ? 0 : integer(RESET_VARIABLE, reset, 1, Limits.MAX_MEMORY_MB, "MiB"),
        attempts == null ? 1 : integer(RETRY_ATTEMPTS_VARIABLE, attempts, 1, MAX_RETRY_ATTEMPTS, "attempts"),
        success,
        attempts != null,
        !"off".equals(snapshot));
  }

  private static Reuse reuse(String value) {
    for (var reuse : Reuse.values()) {
      if (reuse.value.equals(value)) {
        return reuse;
      }
    }
    throw KilnException.invalid("Value '" + value + "' of " + REUSE_VARIABLE
        + " is not one of reuse, per-request, per-tenant.");
  }

  private static int integer(String variable, String value, int min, int max, String unit) {
    int parsed;
    try {
      parsed = Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      parsed = Integer.MIN_VALUE;
    }
    if (parsed < min || parsed > max) {
      throw KilnException.invalid("Value '" + value + "' of " + variable + " must be a whole number from " + min
          + " to " + max + " (" + unit + ").");
    }
    return parsed;
  }

  /** Whether an environment may serve more than one invocation. */
  public boolean singleUse() {
    return reuse == Reuse.PER_REQUEST;
  }

  public boolean perTenant() {
    return reuse == Reuse.PER_TENANT;
  }
}
