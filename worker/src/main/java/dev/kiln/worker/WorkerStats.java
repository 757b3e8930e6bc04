package dev.kiln.worker;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counters of environment transitions and invocations, for logs, tests and metrics. */
public final class WorkerStats {
  private final Map<EnvironmentState, AtomicLong> current = new EnumMap<>(EnvironmentState.class);
  private final Map<EnvironmentState, LongAdder> entered = new EnumMap<>(EnvironmentState.class);
  final LongAdder coldStarts = new LongAdder();
  /** Cold starts that began from a start-up snapshot (a zygote fork or a snapshot file). */
  final LongAdder restores = new LongAdder();
  final LongAdder warmStarts = new LongAdder();
  final LongAdder evictions = new LongAdder();
  final LongAdder resets = new LongAdder();
  final LongAdder retries = new LongAdder();
  final LongAdder singleUseRetirements = new LongAdder();

  WorkerStats() {
    for (var state : EnvironmentState.values()) {
      current.put(state, new AtomicLong());
      entered.put(state, new LongAdder());
    }
  }

  void transition(EnvironmentState from, EnvironmentState to) {
    if (from != null) {
      current.get(from).decrementAndGet();
    }
    current.get(to).incrementAndGet();
    entered.get(to).increment();
  }

  /** Environments in {@code state} right now. */
  public long inState(EnvironmentState state) {
    return current.get(state).get();
  }

  /** How many times any environment entered {@code state}. */
  public long entered(EnvironmentState state) {
    return entered.get(state).sum();
  }

  public long restores() {
    return restores.sum();
  }

  public long coldStarts() {
    return coldStarts.sum();
  }

  /** Idle environments retired early to make room for another function's. */
  public long evictions() {
    return evictions.sum();
  }

  /** Environments retired because their memory use passed KILN_RESET_ABOVE_MB after an invocation. */
  public long resets() {
    return resets.sum();
  }

  /** Attempts run again in a fresh environment because the previous one failed (KILN_RETRY_MAX_ATTEMPTS). */
  public long retries() {
    return retries.sum();
  }

  /** Environments retired after their one invocation (KILN_ENVIRONMENT_REUSE=per-request). */
  public long singleUseRetirements() {
    return singleUseRetirements.sum();
  }

  public long warmStarts() {
    return warmStarts.sum();
  }
}
