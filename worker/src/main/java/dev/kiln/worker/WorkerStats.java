package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of environment transitions and invocations, for logs, tests and metrics: the node's
 * totals, and each account's share of them, so an account can be shown its own figures and never
 * another account's activity.
 */
public final class WorkerStats {
  /** A number kept for the node and for each account; a gauge when it also goes down. */
  static final class Count {
    private final LongAdder node = new LongAdder();
    private final Map<String, LongAdder> accounts = new ConcurrentHashMap<>();

    void increment(String account) {
      add(account, 1);
    }

    void add(String account, long delta) {
      node.add(delta);
      accounts.computeIfAbsent(account, a -> new LongAdder()).add(delta);
    }

    long sum() {
      return node.sum();
    }

    long sum(String account) {
      var count = accounts.get(account);
      return count == null ? 0 : count.sum();
    }
  }

  private final Map<EnvironmentState, Count> current = new EnumMap<>(EnvironmentState.class);
  private final Map<EnvironmentState, Count> entered = new EnumMap<>(EnvironmentState.class);
  /** Memory (MB) of the environments, zygotes and spare children alive now. */
  private final Count memoryMb = new Count();
  final Count coldStarts = new Count();
  /** Cold starts that began from a start-up snapshot (a zygote fork or a snapshot file). */
  final Count restores = new Count();
  final Count warmStarts = new Count();
  final Count evictions = new Count();
  final Count resets = new Count();
  final Count retries = new Count();
  final Count singleUseRetirements = new Count();

  WorkerStats() {
    for (var state : EnvironmentState.values()) {
      current.put(state, new Count());
      entered.put(state, new Count());
    }
  }

  /** An environment of {@code version} moved from {@code from} (null: it was just created) to {@code to}. */
  void transition(FunctionVersion version, EnvironmentState from, EnvironmentState to) {
    var account = version.account();
    if (from == null) {
      memoryMb.add(account, version.memorySize());
    } else {
      current.get(from).add(account, -1);
    }
    if (to == EnvironmentState.RETIRED) {
      memoryMb.add(account, -version.memorySize());
    }
    current.get(to).increment(account);
    entered.get(to).increment(account);
  }

  /** Memory (MB) a zygote or its spare child took ({@code mb} > 0) or gave back, shown with the account's. */
  void zygoteMemory(String account, long mb) {
    memoryMb.add(account, mb);
  }

  /**
   * One account's figures (see {@link Figures}); an account that never ran anything on this node has
   * only zeros.
   */
  public Figures of(String account) {
    var environments = new EnumMap<EnvironmentState, Long>(EnvironmentState.class);
    for (var state : EnvironmentState.values()) {
      environments.put(state, current.get(state).sum(account));
    }
    return new Figures(environments, coldStarts.sum(account), warmStarts.sum(account), restores.sum(account),
        evictions.sum(account), resets.sum(account), retries.sum(account), singleUseRetirements.sum(account),
        memoryMb.sum(account));
  }

  /**
   * An account's share of the counters.
   *
   * @param environments its environments in each state now
   * @param evictions its idle environments retired early to make room (for any account's)
   * @param memoryMb the memory of its environments alive now
   */
  public record Figures(Map<EnvironmentState, Long> environments, long coldStarts, long warmStarts, long restores,
      long evictions, long resets, long retries, long singleUseRetirements, long memoryMb) {
    public Figures {
      environments = Map.copyOf(environments);
    }
  }

  /** Environments in {@code state} right now. */
  public long inState(EnvironmentState state) {
    return current.get(state).sum();
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
