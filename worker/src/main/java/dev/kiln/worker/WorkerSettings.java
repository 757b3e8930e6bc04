package dev.kiln.worker;

import java.time.Duration;

/**
 * How the worker runs environments.
 *
 * @param keepAlive how long an idle environment is kept before it is retired
 * @param freezeAfter how long an environment may sit idle before its processes are frozen
 * @param prewarmedSandboxes empty sandboxes kept ready so a cold start skips sandbox creation
 * @param memoryBudgetMb the most memory all environments of this node may have together
 */
public record WorkerSettings(
    String region, Duration keepAlive, Duration freezeAfter, int prewarmedSandboxes, long memoryBudgetMb) {

  /** The default budget: three quarters of the machine's memory for execution environments. */
  public static long defaultMemoryBudgetMb() {
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os.getTotalMemorySize() / (1024 * 1024) * 3 / 4;
  }
}
