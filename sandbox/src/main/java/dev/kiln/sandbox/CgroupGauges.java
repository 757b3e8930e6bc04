package dev.kiln.sandbox;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a sandbox with a cgroup of its own answers from that cgroup: memory and CPU readings (the last values stay
 * readable after the group is removed) and freezing. Shared by booted crun sandboxes and forked environments.
 */
final class CgroupGauges {
  private final String sandboxId;
  private final AtomicBoolean closed;
  private volatile CgroupV1 cgroup;
  private volatile long lastPeak;
  private volatile long lastCpu = -1;

  CgroupGauges(String sandboxId, AtomicBoolean closed) {
    this.sandboxId = sandboxId;
    this.closed = closed;
  }

  void attach(CgroupV1 group) {
    this.cgroup = group;
  }

  long peakMemoryBytes() {
    var group = cgroup;
    if (group != null && !closed.get()) {
      try {
        lastPeak = group.peakMemoryBytes();
      } catch (IOException | RuntimeException ignored) {
        // removed: keep the last value
      }
    }
    return lastPeak;
  }

  long currentMemoryBytes() {
    var group = cgroup;
    if (group == null || closed.get()) return -1;
    try {
      return group.currentMemoryBytes();
    } catch (IOException | RuntimeException e) {
      return -1; // removed meanwhile
    }
  }

  long cpuTimeNanos() {
    var group = cgroup;
    if (group != null && !closed.get()) {
      try {
        lastCpu = group.cpuNanos();
      } catch (IOException | RuntimeException ignored) {
        // removed: keep the last value
      }
    }
    return lastCpu;
  }

  /** Takes the final readings; called while closing, before the group is removed. */
  void recordFinal() {
    var group = cgroup;
    if (group == null) return;
    try {
      lastPeak = group.peakMemoryBytes();
      lastCpu = group.cpuNanos();
    } catch (IOException | RuntimeException ignored) {
      // best effort
    }
  }

  void freeze() {
    if (closed.get()) throw new SandboxException("sandbox " + sandboxId + " is closed");
    try {
      cgroup.freeze();
    } catch (IOException e) {
      throw new SandboxException("cannot freeze sandbox " + sandboxId + ": " + e.getMessage(), e);
    }
  }

  void thaw() {
    if (closed.get()) throw new SandboxException("sandbox " + sandboxId + " is closed");
    try {
      cgroup.thaw();
    } catch (IOException e) {
      throw new SandboxException("cannot thaw sandbox " + sandboxId + ": " + e.getMessage(), e);
    }
  }
}
