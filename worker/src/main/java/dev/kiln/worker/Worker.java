package dev.kiln.worker;

import dev.kiln.core.EnvironmentModes;
import dev.kiln.core.SyscallProfileMode;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.NetworkPolicy;
import dev.kiln.runtimes.RuntimeCatalog;
import dev.kiln.runtimes.RuntimeCommand;
import dev.kiln.sandbox.Launch;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.sandbox.SandboxBackend;
import dev.kiln.sandbox.SandboxLimits;
import dev.kiln.sandbox.SandboxPool;
import dev.kiln.warming.FixedKeepAlive;
import dev.kiln.warming.WarmPlan;
import dev.kiln.warming.WarmingPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs invocations in execution environments, reusing an idle environment of the same function
 * configuration when there is one and creating one otherwise. Idle environments are frozen after a
 * short while and retired when their {@link WarmingPolicy} plan says; the policy may also ask for an
 * environment to be started ahead of an expected invocation, and clients may announce load with a
 * {@link #hint}. This is the one place that decides reuse, freezing, retirement and pre-warming;
 * the policy only advises.
 */
public final class Worker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);
  /** Enough processes for any runtime's threads, few enough to stop a fork bomb. */
  static final int MAX_PIDS = 1024;

  private final WorkerSettings settings;
  private final SandboxBackend backend;
  private final SandboxPool sandboxes;
  private final RuntimeCatalog runtimes;
  private final CodeCache codeCache;
  private final InvocationLogSink logs;
  private final ScalingGate gate;
  private final WorkerStats stats = new WorkerStats();
  private final Map<FunctionKey, IdlePool> idle = new ConcurrentHashMap<>();
  private final Thread maintenance;
  /** The current configuration of each function version, so superseded environments are not reused. */
  private final Map<String, FunctionKey> latestKeys = new ConcurrentHashMap<>();
  /** At most this many replacement environments are initialized ahead of an update. */
  static final int MAX_UPDATE_PREWARM = 8;
  private final Map<String, ProvisionedSet> provisioned = new ConcurrentHashMap<>();
  /** When each deleted function was deleted, so its older environments are never reused. */
  private final Map<String, Long> deletedAt = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong committedMb = new java.util.concurrent.atomic.AtomicLong();
  private final WarmingPolicy policy;
  private final PrewarmGate prewarmGate;
  /** The origin of the policy's clock: histories want small positive milliseconds. */
  private final long epochNanos = System.nanoTime();
  private volatile boolean closed;
  /** How long a zygote with no fork is kept at least. */
  private static final java.time.Duration ZYGOTE_IDLE = java.time.Duration.ofMinutes(10);
  /** Start-up snapshots; off until {@link #enableSnapshots}. */
  private volatile StartSnapshots snapshots;
  private volatile NetworkPolicy networkDefault = NetworkPolicy.INTERNET;
  private volatile SyscallProfiles syscallProfiles;

  /** A worker with the fixed keep-alive of {@code settings} that never pre-warms on its own. */
  public Worker(WorkerSettings settings, SandboxBackend backend, RuntimeCatalog runtimes, CodeCache codeCache,
      InvocationLogSink logs, ScalingGate gate) {
    this(settings, backend, runtimes, codeCache, logs, gate, new FixedKeepAlive(settings.keepAlive()), version -> false);
  }

  /**
   * @param policy decides how long idle environments are kept and when one is pre-warmed
   * @param prewarmGate asked before each policy pre-warm, which must never cost a user invoke its capacity
   */
  public Worker(WorkerSettings settings, SandboxBackend backend, RuntimeCatalog runtimes, CodeCache codeCache,
      InvocationLogSink logs, ScalingGate gate, WarmingPolicy policy, PrewarmGate prewarmGate) {
    this.policy = policy;
    this.prewarmGate = prewarmGate;
    this.logs = logs;
    this.gate = gate;
    this.settings = settings;
    this.backend = backend;
    this.runtimes = runtimes;
    this.codeCache = codeCache;
    this.sandboxes = new SandboxPool(backend, new SandboxLimits(128, 512, MAX_PIDS, false),
        settings.prewarmedSandboxes());
    this.maintenance = Thread.ofVirtual().name("worker-maintenance").start(this::maintain);
  }

  public WorkerStats stats() {
    return stats;
  }

  /**
   * Turns start-up snapshots on (see {@link StartSnapshots}): snapshot files are kept under {@code root}, which
   * should be on the same file system as the sandboxes so they can be hard-linked into them.
   */
  public void enableSnapshots(Path root) {
    enableSnapshots(root, (account, function) -> true);
  }

  /** As {@link #enableSnapshots(Path)}; snapshots of functions {@code functionExists} denies are deleted now. */
  public void enableSnapshots(Path root, java.util.function.BiPredicate<String, String> functionExists) {
    snapshots = new StartSnapshots(root, backend, runtimes, settings.region(), v -> codeCache.use(v.code()),
        functionExists,
        new StartSnapshots.MemoryBudget() {
          @Override
          public boolean tryReserve(String account, int mb) {
            if (!tryCommit(mb)) {
              return false;
            }
            stats.zygoteMemory(account, mb);
            return true;
          }

          @Override
          public boolean reserve(String account, int mb) {
            while (!tryCommit(mb)) {
              if (!makeRoom()) {
                return false;
              }
            }
            stats.zygoteMemory(account, mb);
            return true;
          }

          @Override
          public void release(String account, int mb) {
            committedMb.addAndGet(-mb);
            stats.zygoteMemory(account, -mb);
          }
        },
        v -> FunctionNetwork.egress(v, networkDefault), StartSnapshots.MAX_ZYGOTES);
  }

  /**
   * The network policy of functions that set no {@value NetworkPolicy#VARIABLE} (default: {@code internet}).
   */
  public void setNetworkDefault(NetworkPolicy policy) {
    networkDefault = java.util.Objects.requireNonNull(policy);
  }

  /** Zygotes (Python start-up snapshots) of the account's functions running now. */
  public int zygotes(String account) {
    var s = snapshots;
    return s == null ? 0 : s.zygoteCount(account);
  }

  /** Whether Kiln can run this runtime at all. */
  public boolean supports(String runtime) {
    return runtimes.supported().contains(runtime);
  }

  /**
   * Readies a version that was just created or changed: extracts its code and, when warm
   * environments of an earlier configuration of the same version exist, initializes as many
   * replacements first, so an update causes no burst of cold starts. Called before the version is
   * reported Successful; {@link #retireSuperseded} follows.
   */
  public void prepare(FunctionVersion version) throws InterruptedException {
    codeCache.directory(version.code());
    var s = snapshots;
    if (s != null && supports(version.runtime())) {
      runtimes.command(version.runtime(), version.handler()).ifPresent(command -> s.prepare(version, command));
    }
    var key = FunctionKey.of(version);
    latestKeys.put(versionId(key), key);
    inheritWarming(key);
    long warmOld = idle.entrySet().stream()
        .filter(e -> !e.getKey().equals(key) && versionId(e.getKey()).equals(versionId(key)))
        .mapToLong(e -> e.getValue().size())
        .sum();
    int replacements = (int) Math.min(warmOld, MAX_UPDATE_PREWARM);
    if (replacements == 0 || !supports(version.runtime())) {
      return;
    }
    var starting = new java.util.ArrayList<Environment>();
    for (int i = 0; i < replacements; i++) {
      try {
        starting.add(create(key, version));
      } catch (RuntimeException e) {
        log.debug("pre-warming {} failed: {}", version.functionName(), e.toString());
        break;
      }
    }
    for (var environment : starting) {
      if (environment.awaitReady()) {
        environment.markPrewarmed();
        environment.keepUntilNanos = System.nanoTime() + settings.keepAlive().toNanos();
        pool(key).offerFirst(environment);
      } else {
        log.warn("a replacement environment for {} failed to initialize: {}", version.functionName(),
            environment.initFailureDescription());
        environment.retire();
      }
    }
  }

  /**
   * A deleted function's environments never serve again, not even a function re-created with the
   * same name and code: idle ones are retired now, busy ones when their invocation ends.
   */
  public void retireFunction(String account, String function) {
    deletedAt.put(account + ":" + function, System.nanoTime());
    codeCache.removeUnusedSoon();
    if (snapshots != null) {
      snapshots.retire(account, function, null);
    }
    deprovisionAll(account + ":" + function + ":");
    for (var entry : idle.entrySet()) {
      var key = entry.getKey();
      if (key.account().equals(account) && key.functionName().equals(function)) {
        // Its history and any pending pre-warm go with it: a function re-created later starts afresh.
        var pool = entry.getValue();
        idle.remove(key, pool);
        for (var environment = pool.poll(); environment != null; environment = pool.poll()) {
          environment.retire();
        }
      }
    }
  }

  private boolean outlivedItsFunction(Environment environment) {
    var deleted = deletedAt.get(environment.key.account() + ":" + environment.key.functionName());
    return deleted != null && environment.createdNanos < deleted;
  }

  /** Retires idle environments of configurations older than the version's current one. */
  public void retireSuperseded(FunctionVersion version) {
    codeCache.removeUnusedSoon(); // an update may have replaced the only use of a package
    if (snapshots != null) {
      snapshots.retire(version.account(), version.functionName(), version);
    }
    var key = FunctionKey.of(version);
    latestKeys.put(versionId(key), key);
    for (var entry : idle.entrySet()) {
      if (!entry.getKey().equals(key) && versionId(entry.getKey()).equals(versionId(key))) {
        var pool = entry.getValue();
        pool.stream().filter(e -> e.provisionedFor == null).toList().forEach(environment -> {
          if (pool.remove(environment)) {
            environment.retire();
          }
        });
      }
    }
  }

  /**
   * Commits the version's memory to a new environment within the host budget. When the budget is
   * full, room is made ({@link #makeRoom}); if that is not enough, the request is refused with
   * {@link HostCapacityExceeded}.
   */
  private void reserveMemory(FunctionVersion version, boolean evictForRoom) {
    int needed = version.memorySize();
    while (!tryCommit(needed)) {
      if (!evictForRoom || !makeRoom()) {
        throw new HostCapacityExceeded("This node has no memory left for another " + needed + " MB environment ("
            + committedMb.get() + " of " + settings.memoryBudgetMb() + " MB committed).");
      }
    }
  }

  /** Commits {@code mb} of the budget if it has room now. */
  private boolean tryCommit(int mb) {
    while (true) {
      long committed = committedMb.get();
      if (committed + mb > settings.memoryBudgetMb()) {
        return false;
      }
      if (committedMb.compareAndSet(committed, committed + mb)) {
        return true;
      }
    }
  }

  /**
   * Frees one thing's memory: a zygote's spare child (it only saves a fork), else the idle on-demand
   * environment used least recently, else the zygote used least recently that has no environment running
   * (its environments would die with it). False when nothing can go.
   */
  private boolean makeRoom() {
    var s = snapshots;
    if (s != null && s.dropSpare()) {
      return true;
    }
    if (evictLeastRecentlyUsed()) {
      return true;
    }
    var evictedZygoteAccount = s == null ? java.util.Optional.<String>empty() : s.retireIdlestZygote();
    if (evictedZygoteAccount.isPresent()) {
      stats.evictions.increment(evictedZygoteAccount.get());
      return true;
    }
    return false;
  }

  private boolean evictLeastRecentlyUsed() {
    while (true) {
      Environment oldest = null;
      IdlePool oldestPool = null;
      for (var pool : idle.values()) {
        for (var environment : pool.stream().toList()) {
          if (environment.provisionedFor == null
              && (oldest == null || environment.idleSinceNanos < oldest.idleSinceNanos)) {
            oldest = environment;
            oldestPool = pool;
          }
        }
      }
      if (oldest == null) {
        return false;
      }
      if (oldestPool.remove(oldest)) {
        stats.evictions.increment(oldest.key.account());
        oldest.retire();
        return true;
      }
    }
  }

  /** Memory (MB) committed to live environments on this node. */
  public long committedMemoryMb() {
    return committedMb.get();
  }

  // ---- provisioned concurrency ---------------------------------------------------------------

  /**
   * Keeps {@code count} environments of {@code version} initialized under {@code key} (one
   * provisioned-concurrency configuration), with AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency.
   * They are never reaped for idleness and are replaced when they fail; invocations use them first and
   * spill over to on-demand environments when all are busy. Returns at once; see {@link #provisionedStatus}.
   */
  public void provision(String key, FunctionVersion version, int count) {
    var set = provisioned.compute(key, (k, existing) -> {
      if (existing != null && existing.version.equals(version)) {
        existing.requested = count;
        return existing;
      }
      if (existing != null) {
        existing.release();
      }
      return new ProvisionedSet(key, version, count);
    });
    set.failure = null;
    fill(set);
  }

  public void deprovision(String key) {
    var set = provisioned.remove(key);
    if (set != null) {
      set.requested = 0;
      set.release();
    }
  }

  /** Drops every provisioned configuration whose key starts with {@code prefix}. */
  public void deprovisionAll(String prefix) {
    for (var key : List.copyOf(provisioned.keySet())) {
      if (key.startsWith(prefix)) {
        deprovision(key);
      }
    }
  }

  /** How far a provisioned-concurrency configuration is: requested, allocated, and why it failed if it did. */
  public ProvisionedStatus provisionedStatus(String key) {
    var set = provisioned.get(key);
    if (set == null) {
      return new ProvisionedStatus(0, 0, null);
    }
    return new ProvisionedStatus(set.requested, set.live(), set.failure);
  }

  private void fill(ProvisionedSet set) {
    if (!set.filling.compareAndSet(false, true)) {
      return;
    }
    Thread.ofVirtual().name("provision-" + set.key).start(() -> {
      try {
        var key = FunctionKey.of(set.version);
        while (!closed && provisioned.get(set.key) == set && set.live() < set.requested) {
          var environment = create(key, set.version, "provisioned-concurrency");
          if (!environment.awaitReady()) {
            environment.retire();
            set.failure = "FUNCTION_ERROR_INIT_FAILURE: the function failed to initialize; check its log.";
            return;
          }
          environment.markPrewarmed();
          environment.provisionedFor = set.key;
          set.environments.add(environment);
          pool(key).offerFirst(environment);
        }
        // Lowered: retire surplus provisioned environments that are idle now; busy ones follow later.
        var pool = idle.get(key);
        for (var environment : set.environments) {
          if (set.live() <= set.requested) {
            break;
          }
          if (pool != null && pool.remove(environment)) {
            set.environments.remove(environment);
            environment.retire();
          }
        }
      } catch (RuntimeException e) {
        set.failure = "Kiln could not start an environment: " + e.getMessage();
        log.warn("provisioning {} failed: {}", set.key, e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        set.filling.set(false);
      }
    });
  }

  /** What a provisioned-concurrency configuration has reached. */
  public record ProvisionedStatus(int requested, int allocated, String failure) {}

  /** The environments kept for one provisioned-concurrency configuration. */
  private final class ProvisionedSet {
    final String key;
    final FunctionVersion version;
    final java.util.Set<Environment> environments = ConcurrentHashMap.newKeySet();
    final java.util.concurrent.atomic.AtomicBoolean filling = new java.util.concurrent.atomic.AtomicBoolean();
    volatile int requested;
    volatile String failure;

    ProvisionedSet(String key, FunctionVersion version, int requested) {
      this.key = key;
      this.version = version;
      this.requested = requested;
    }

    int live() {
      environments.removeIf(e -> e.state() == EnvironmentState.RETIRED);
      return environments.size();
    }

    /** Hands the environments back to on-demand use: idle ones are retired, busy ones age out. */
    void release() {
      var pool = idle.get(FunctionKey.of(version));
      for (var environment : environments) {
        if (pool != null && pool.remove(environment)) {
          environment.retire();
        }
        environment.provisionedFor = null;
      }
      environments.clear();
    }
  }

  /**
   * Runs one invocation to completion; function failures are results, not exceptions. A function
   * whose result must match a KILN_RETRY_SUCCESS pattern is run through {@link #invoke(InvocationRequest,
   * ResultCheck)} instead, with that pattern compiled.
   */
  public InvocationResult invoke(InvocationRequest request) throws InterruptedException {
    return invoke(request, null);
  }

  /**
   * Runs one invocation to completion in the environments its function's {@link EnvironmentModes}
   * allow: a fresh one per request (per-request), one bound to the request's tenant (per-tenant) or
   * any idle one (reuse). With KILN_RETRY_MAX_ATTEMPTS, an attempt that fails (a function error, or
   * a result {@code resultCheck} rejects) retires its environment and the request runs again in a
   * fresh one, up to that many attempts; the last attempt's result is returned.
   *
   * @param resultCheck the function's KILN_RETRY_SUCCESS pattern, compiled; null when it has none
   * @throws dev.kiln.core.KilnException InvalidParameterValueException for a per-tenant function
   *     invoked without a tenant id
   */
  public InvocationResult invoke(InvocationRequest request, ResultCheck resultCheck) throws InterruptedException {
    var version = request.version();
    var modes = EnvironmentModes.of(version.environment());
    var tenant = tenantOf(request, modes);
    if (modes.retrySuccessPattern() != null && resultCheck == null) {
      throw new IllegalStateException("the KILN_RETRY_SUCCESS pattern of " + version.functionName()
          + " needs a compiled ResultCheck");
    }
    int maxAttempts = modes.retryMaxAttempts();
    if (maxAttempts == 1) {
      return attempt(request, modes, tenant, false, null, resultCheck).result();
    }
    // Chunks already streamed to the caller cannot be taken back: a retried response is sent whole.
    var attemptRequest = request.stream() == null ? request : new InvocationRequest(request.requestId(), version,
        request.invokedFunctionArn(), request.payload(), request.clientContext(), request.tailLogs(), null,
        request.tenantId());
    var tails = new StringBuilder();
    String reason = "first attempt";
    for (int attempt = 1; ; attempt++) {
      var preface = "KILN RETRY RequestId: " + request.requestId() + " Attempt: " + attempt + " of " + maxAttempts
          + " Reason: " + reason;
      var done = attempt(attemptRequest, modes, tenant, attempt > 1, preface, resultCheck);
      var result = done.result();
      if (result.logTail() != null) {
        tails.append(result.logTail());
      }
      if (done.succeeded() || done.hopeless() || attempt == maxAttempts || closed) {
        return result.after(attempt, request.tailLogs() ? lastBytes(tails.toString(), TAIL_BYTES) : null);
      }
      stats.retries.increment(request.version().account());
      reason = "attempt " + attempt + " " + RetryDecision.failure(result);
    }
  }

  private static final int TAIL_BYTES = 4096;

  private static String lastBytes(String text, int max) {
    var bytes = text.getBytes(StandardCharsets.UTF_8);
    return bytes.length <= max ? text : new String(bytes, bytes.length - max, max, StandardCharsets.UTF_8);
  }

  /** The tenant whose environments a per-tenant function's invocation may use; null for other functions. */
  static String tenantOf(InvocationRequest request, EnvironmentModes modes) {
    if (!modes.perTenant()) {
      return null;
    }
    var tenant = request.tenantId();
    if (tenant == null || tenant.isBlank()) {
      throw dev.kiln.core.KilnException.invalid("Tenant id required: the function " + request.version().functionName()
          + " keeps each tenant's environments apart (" + EnvironmentModes.REUSE_VARIABLE
          + "=per-tenant), so every invoke must name its tenant in the X-Amz-Tenant-Id header.");
    }
    return tenant;
  }

  /**
   * What one attempt achieved.
   *
   * @param hopeless the attempt failed in a way another environment cannot change (no bootstrap)
   */
  private record Attempt(InvocationResult result, boolean succeeded, boolean hopeless) {}

  /**
   * Runs the request once, in an idle environment the modes allow or a new one, then decides that
   * environment's future: kept by the warming policy, or retired (single use, memory above the
   * reset threshold, a failed transactional attempt) with a fresh successor started in the
   * background where the next request will want one.
   *
   * @param freshOnly take only an environment no invocation has run in yet
   * @param preface the first line of this attempt's log, or null
   */
  private Attempt attempt(InvocationRequest request, EnvironmentModes modes, String tenant, boolean freshOnly,
      String preface, ResultCheck resultCheck) throws InterruptedException {
    var version = request.version();
    var key = FunctionKey.of(version);
    var pool = pool(key);
    var warming = pool.warming;
    warming.version = version;
    warming.history.arrived(nowMillis());
    boolean ended = false;
    try {
      var environment = freshOnly ? takeFresh(pool) : takeIdle(pool, tenant);
      if (environment == null && version.lastUpdateStatus() == dev.kiln.core.LastUpdateStatus.InProgress
          && modes.reuse() == EnvironmentModes.Reuse.REUSE && !freshOnly) {
        // While an update is being applied, the previous configuration's warm environments keep serving.
        environment = takeIdleOfEarlierConfiguration(key);
      }
      if (environment == null) {
        gate.beforeNewEnvironment(version);
        stats.coldStarts.increment(version.account());
        try {
          environment = create(key, version);
        } catch (EntrypointMissing e) {
          return new Attempt(new InvocationResult(e.errorDocument, "Unhandled", null, version.version(), 0, null),
              false, true);
        }
      } else {
        stats.warmStarts.increment(version.account());
      }
      if (tenant != null) {
        // Binds a fresh environment for good; one taken from the tenant's own lane is bound already.
        environment.tenant = tenant;
      }
      var result = environment.run(request, preface);
      var training = environment.training;
      if (training != null) {
        training.invocationEnded();
      }
      boolean succeeded = RetryDecision.succeeded(result, resultCheck);
      long endMillis = nowMillis();
      int level = warming.history.ended(endMillis);
      ended = true;
      var latest = latestKeys.get(versionId(environment.key));
      boolean superseded = latest != null && !latest.equals(environment.key)
          && version.lastUpdateStatus() != dev.kiln.core.LastUpdateStatus.InProgress;
      if (!environment.reusable()) {
        return new Attempt(result, succeeded, false);
      }
      if (closed || superseded || outlivedItsFunction(environment)) {
        environment.retire();
      } else if (modes.retryConfigured() && !succeeded) {
        // A failed transaction's state must reach no other attempt or request.
        retireInBackground(environment);
      } else if (modes.singleUse()) {
        stats.singleUseRetirements.increment(version.account());
        retireAndReplace(environment, warming, level, endMillis);
      } else if (resetDue(environment, modes)) {
        stats.resets.increment(version.account());
        retireAndReplace(environment, warming, level, endMillis);
      } else {
        keepOrRelease(environment, warming, level, endMillis);
      }
      return new Attempt(result, succeeded, false);
    } finally {
      if (!ended) {
        warming.history.ended(nowMillis());
      }
    }
  }

  /** Whether an environment's memory use, after an invocation, passed the function's KILN_RESET_ABOVE_MB. */
  private static boolean resetDue(Environment environment, EnvironmentModes modes) {
    return modes.resetAboveMb() > 0 && environment.currentMemoryBytes() > modes.resetAboveMb() * 1024L * 1024;
  }

  /**
   * Retires an environment that must not serve again and, where the warming policy would have kept
   * it, starts a fresh one in its place (through the same create path as any environment), so the
   * next request finds an environment holding exactly what the function's init produced.
   */
  private void retireAndReplace(Environment environment, FunctionWarming warming, int level, long endMillis) {
    var key = environment.key;
    boolean provisionedOne = environment.provisionedFor != null;
    retireInBackground(environment);
    if (provisionedOne) {
      // Its provisioned configuration refills itself (see maintain).
      return;
    }
    switch (policy.plan(warming.history, level, endMillis)) {
      case WarmPlan.KeepWarm keep -> {
        if (keep.keepMillis() > 0) {
          startSuccessor(key, pool(key), System.nanoTime() + keep.keepMillis() * 1_000_000);
        }
      }
      case WarmPlan.PrewarmLater later -> {
        long at = endMillis + later.afterMillis();
        warming.schedulePrewarm(at, at + later.keepMillis());
      }
    }
  }

  /**
   * Retires an environment off the request path: killing its processes and removing its sandbox
   * takes milliseconds the caller should not wait for. Nobody else holds it meanwhile.
   */
  private static void retireInBackground(Environment environment) {
    Thread.ofVirtual().name("retire-" + environment.key.functionName()).start(environment::retire);
  }

  /**
   * Starts a fresh environment for the pool off the request path, if a spare one may be started
   * now; it joins the pool once initialized.
   */
  private void startSuccessor(FunctionKey key, IdlePool pool, long untilNanos) {
    var version = pool.warming.version;
    if (closed || version == null || !FunctionKey.of(version).equals(key) || !prewarmGate.mayPrewarm(version)) {
      return;
    }
    Thread.ofVirtual().name("successor-" + key.functionName()).start(() -> {
      Environment successor;
      try {
        successor = create(key, version, "on-demand", false);
      } catch (RuntimeException e) {
        // No room or no scaling headroom now: the next request starts its own, as any cold start.
        log.debug("no successor environment for {}: {}", key.functionName(), e.toString());
        return;
      }
      readyInPool(key, pool, successor, untilNanos, null);
    });
  }

  /** Applies the policy's plan to an environment whose invocation just ended. */
  private void keepOrRelease(Environment environment, FunctionWarming warming, int level, long endMillis) {
    if (environment.provisionedFor != null) {
      pool(environment.key).offerFirst(environment);
      return;
    }
    switch (policy.plan(warming.history, level, endMillis)) {
      case WarmPlan.KeepWarm keep -> {
        if (keep.keepMillis() == 0) {
          environment.retire();
          return;
        }
        environment.keepUntilNanos = System.nanoTime() + keep.keepMillis() * 1_000_000;
        pool(environment.key).offerFirst(environment);
      }
      case WarmPlan.PrewarmLater later -> {
        environment.retire();
        long at = endMillis + later.afterMillis();
        warming.schedulePrewarm(at, at + later.keepMillis());
      }
    }
  }

  /** Milliseconds on the policy's clock. */
  private long nowMillis() {
    return (System.nanoTime() - epochNanos) / 1_000_000;
  }

  /** The pool of a configuration, created on first use with its version's warming state. */
  private IdlePool pool(FunctionKey key) {
    var pool = idle.get(key);
    return pool != null ? pool : idle.computeIfAbsent(key, k -> new IdlePool(new FunctionWarming(policy.newHistory())));
  }

  /**
   * A new configuration of a version carries on with the warming history of the earlier one, so
   * an update does not send the function back to "too little history".
   */
  private void inheritWarming(FunctionKey key) {
    if (idle.containsKey(key)) {
      return;
    }
    for (var entry : idle.entrySet()) {
      if (!entry.getKey().equals(key) && versionId(entry.getKey()).equals(versionId(key))) {
        idle.putIfAbsent(key, new IdlePool(entry.getValue().warming));
        return;
      }
    }
  }

  private Environment takeIdleOfEarlierConfiguration(FunctionKey key) {
    for (var entry : idle.entrySet()) {
      if (!entry.getKey().equals(key) && versionId(entry.getKey()).equals(versionId(key))) {
        var environment = takeIdle(entry.getValue());
        if (environment != null) {
          return environment;
        }
      }
    }
    return null;
  }

  /** Function version identity without the configuration fingerprint. */
  private static String versionId(FunctionKey key) {
    return key.account() + ":" + key.functionName() + ":" + key.version();
  }

  private Environment takeIdle(IdlePool pool) {
    return takeIdle(pool, null);
  }

  /**
   * An idle environment for {@code tenant}: one bound to it, else one bound to no tenant. (In a
   * per-tenant function's pool those have never run an invocation; every used one is bound.)
   */
  private Environment takeIdle(IdlePool pool, String tenant) {
    if (tenant != null) {
      var environment = claim(pool, tenant);
      if (environment != null) {
        return environment;
      }
    }
    return claim(pool, null);
  }

  private Environment claim(IdlePool pool, String tenant) {
    for (var environment = pool.poll(tenant); environment != null; environment = pool.poll(tenant)) {
      if (claimed(environment)) {
        return environment;
      }
    }
    return null;
  }

  /** An idle environment no invocation has run in, whatever lane it waits in; null when there is none. */
  private Environment takeFresh(IdlePool pool) {
    for (var environment : pool.stream().filter(Environment::fresh).toList()) {
      if (pool.remove(environment) && claimed(environment)) {
        return environment;
      }
    }
    return null;
  }

  /** Readies an environment just taken out of its pool; false when it died while it waited. */
  private static boolean claimed(Environment environment) {
    environment.thaw();
    if (environment.reusable()) {
      environment.taken();
      return true;
    }
    return false;
  }

  private Environment create(FunctionKey key, FunctionVersion version) {
    return create(key, version, "on-demand", true);
  }

  private Environment create(FunctionKey key, FunctionVersion version, String initializationType) {
    return create(key, version, initializationType, true);
  }

  /**
   * @param evictForRoom whether idle environments of other functions may be retired to make room;
   *     a pre-warm never does that, it is skipped instead
   */
  private Environment create(FunctionKey key, FunctionVersion version, String initializationType,
      boolean evictForRoom) {
    var command = runtimes.command(version.runtime(), version.handler())
        .orElseThrow(() -> new IllegalStateException("runtime " + version.runtime() + " is not supported"));
    // The tree stays until the sandbox has its own links to it (launch), even if the function is deleted now.
    try (var code = codeCache.use(version.code())) {
      return create(key, version, initializationType, evictForRoom, command, code.directory());
    }
  }

  private Environment create(FunctionKey key, FunctionVersion version, String initializationType,
      boolean evictForRoom, RuntimeCommand command, Path codeDir) {
    var entrypoint = command.command().getFirst();
    if (entrypoint.startsWith("/var/task/")) {
      var file = codeDir.resolve(entrypoint.substring("/var/task/".length()));
      if (!Files.isRegularFile(file) || !Files.isExecutable(file)) {
        throw new EntrypointMissing(entrypoint);
      }
    }
    var profileMode = SyscallProfileMode.of(version.environment());
    java.util.Set<String> confinedTo = profileMode == SyscallProfileMode.ENFORCE ? learnedProfile(version) : null;
    // A traced or confined environment boots: a snapshot's or a zygote's start would not be the function's own.
    var plan = snapshots == null || profileMode != SyscallProfileMode.OFF
        ? new StartSnapshots.Plan.Boot(command, Map.of(), null) : snapshots.plan(version, command);
    reserveMemory(version, evictForRoom);
    Sandbox sandbox = null;
    try {
      var limits = new SandboxLimits(version.memorySize(), version.ephemeralStorageSize(), MAX_PIDS, false);
      if (confinedTo != null) {
        // The filter is fixed when the container is made: never a pooled sandbox.
        try {
          sandbox = backend.prepareConfined(limits, confinedTo);
        } catch (dev.kiln.sandbox.SandboxException e) {
          throw new EntrypointMissing("Runtime.SyscallProfileUnavailable", "Error: cannot confine "
              + version.functionName() + " to its learned profile: " + e.getMessage());
        }
      }
      if (plan instanceof StartSnapshots.Plan.Fork fork) {
        sandbox = snapshots.forkSandbox(fork, version, MAX_PIDS);
        if (sandbox == null) { // the zygote is broken (and retired): this environment boots
          plan = new StartSnapshots.Plan.Boot(command, Map.of(), null);
        }
      }
      if (sandbox == null) {
        sandbox = sandboxes.take(limits);
      }
    } catch (RuntimeException e) {
      committedMb.addAndGet(-version.memorySize());
      throw e;
    }
    SyscallProfiles.Training training = null;
    if (profileMode == SyscallProfileMode.LEARN) {
      try {
        training = trainingRun(sandbox, version);
      } catch (RuntimeException e) {
        sandbox.close();
        committedMb.addAndGet(-version.memorySize());
        throw e;
      }
    }
    if (plan instanceof StartSnapshots.Plan.Boot boot) {
      command = boot.command();
    }
    boolean restored = plan instanceof StartSnapshots.Plan.Fork
        || (plan instanceof StartSnapshots.Plan.Boot boot && boot.snapshotKind() != null);
    if (restored) {
      initializationType = "snap-start";
      stats.restores.increment(version.account());
    }
    int memory = version.memorySize();
    // Random per environment, so that no function output can end another invocation's log by accident.
    String outputMark = command.marksEndOfOutput() ? "KILN-END-OF-OUTPUT-" + java.util.UUID.randomUUID() : null;
    var environment = new Environment(key, version, sandbox, stats, logs, () -> committedMb.addAndGet(-memory),
        outputMark, restored);
    environment.training = training;
    var variables = LambdaVariables.forVersion(version, settings.region(), sandbox.runtimeApiAddress(),
        LambdaVariables.logStreamName(version.version()), initializationType, command.extraEnvironment());
    if (outputMark != null) {
      variables.put(RuntimeCommand.OUTPUT_MARK_VARIABLE, outputMark);
    }
    try {
      var runFiles = plan instanceof StartSnapshots.Plan.Boot boot ? boot.runFiles() : Map.<String, Path>of();
      environment.start(new Launch(command.command(), variables, codeDir, version.memorySize(), runFiles, false,
          FunctionNetwork.egress(version, networkDefault)));
    } catch (IOException | RuntimeException e) {
      environment.retire();
      throw new IllegalStateException("could not start an environment for " + version.functionName(), e);
    }
    return environment;
  }

  // ---- pre-warming and hints ---------------------------------------------------------------

  /** Starts the environments the policy asked for that are due now. */
  private void prewarmDue() {
    long now = nowMillis();
    for (var entry : idle.entrySet()) {
      var key = entry.getKey();
      var latest = latestKeys.get(versionId(key));
      if (latest != null && !latest.equals(key)) {
        // A superseded configuration shares its version's warming: leave the pre-warm to the current one.
        continue;
      }
      var pool = entry.getValue();
      long until = pool.warming.takeDuePrewarm(now);
      if (until >= 0) {
        prewarm(key, pool, until);
      }
    }
  }

  private void prewarm(FunctionKey key, IdlePool pool, long untilMillis) {
    var warming = pool.warming;
    long untilNanos = epochNanos + untilMillis * 1_000_000;
    for (var waiting : pool.stream().toList()) {
      if (waiting.provisionedFor == null) {
        // One is idle already: keep it through the window instead of starting another.
        if (untilNanos - waiting.keepUntilNanos > 0) {
          waiting.keepUntilNanos = untilNanos;
        }
        return;
      }
    }
    var version = warming.version;
    if (closed || version == null || !supports(version.runtime()) || !FunctionKey.of(version).equals(key)) {
      return;
    }
    if (!prewarmGate.mayPrewarm(version)) {
      warming.prewarmsSkipped.increment();
      return;
    }
    Environment environment;
    try {
      environment = create(key, version, "on-demand", false);
    } catch (HostCapacityExceeded e) {
      warming.prewarmsSkipped.increment();
      return;
    } catch (RuntimeException e) {
      log.debug("pre-warming {} failed: {}", version.functionName(), e.toString());
      return;
    }
    warming.prewarmsStarted.increment();
    Thread.ofVirtual().name("prewarm-" + key.functionName())
        .start(() -> readyInPool(key, pool, environment, untilNanos, Environment.Readied.BY_POLICY));
  }

  /**
   * Waits for an environment started ahead of demand and puts it in its pool until {@code untilNanos};
   * false when it failed to initialize or its function went away meanwhile.
   *
   * @param how why it was readied, counted against the version's warming; null for a successor of a
   *     retired environment, which is counted nowhere
   */
  private boolean readyInPool(FunctionKey key, IdlePool pool, Environment environment, long untilNanos,
      Environment.Readied how) {
    try {
      if (!environment.awaitReady()) {
        log.info("an environment readied ahead of demand for {} failed to initialize: {}", key.functionName(),
            environment.initFailureDescription());
        environment.retire();
        return false;
      }
    } catch (InterruptedException e) {
      environment.retire();
      return false;
    }
    if (how != null) {
      environment.readied(pool.warming, how);
    } else {
      environment.markPrewarmed();
    }
    environment.keepUntilNanos = untilNanos;
    pool.offerFirst(environment);
    if (closed || idle.get(key) != pool || outlivedItsFunction(environment)) {
      if (pool.remove(environment)) {
        environment.retire();
      }
      return false;
    }
    return true;
  }

  /**
   * Readies idle environments of {@code version} for load a client announced: idle ones count
   * toward {@code count} and new ones are started for the rest, through the same scaling gate as
   * invocations and within the memory budget's free room. All of them are kept at least {@code
   * keepFor}; after that the usual keep-alive rules apply. Waits up to {@code wait} for the new ones
   * to initialize; later ones join the pool when ready.
   */
  public HintOutcome hint(FunctionVersion version, int count, java.time.Duration wait, java.time.Duration keepFor)
      throws InterruptedException {
    var key = FunctionKey.of(version);
    var pool = pool(key);
    pool.warming.version = version;
    long untilNanos = System.nanoTime() + keepFor.toNanos();
    int alreadyWarm = 0;
    for (var environment : pool.stream().toList()) {
      if (alreadyWarm == count) {
        break;
      }
      alreadyWarm++;
      if (environment.provisionedFor == null && untilNanos - environment.keepUntilNanos > 0) {
        environment.keepUntilNanos = untilNanos;
      }
    }
    var starting = new java.util.ArrayList<Environment>();
    String shortBecause = null;
    while (alreadyWarm + starting.size() < count && !closed) {
      try {
        gate.beforeNewEnvironment(version);
      } catch (RuntimeException e) {
        shortBecause = "the function may not start more environments this fast (" + e.getMessage() + ")";
        break;
      }
      try {
        // Free memory only: evicting the least recently used idle environment could take one of these.
        starting.add(create(key, version, "on-demand", false));
      } catch (EntrypointMissing e) {
        shortBecause = "the function has no executable bootstrap";
        break;
      } catch (RuntimeException e) {
        shortBecause = e.getMessage();
        break;
      }
    }
    pool.warming.hintedStarted.add(starting.size());
    var readied = new java.util.ArrayList<java.util.concurrent.CompletableFuture<Boolean>>();
    for (var environment : starting) {
      var done = new java.util.concurrent.CompletableFuture<Boolean>();
      Thread.ofVirtual().name("hint-" + key.functionName())
          .start(() -> done.complete(readyInPool(key, pool, environment, untilNanos, Environment.Readied.BY_HINT)));
      readied.add(done);
    }
    long deadline = System.nanoTime() + wait.toNanos();
    int ready = 0;
    int pending = 0;
    for (var done : readied) {
      try {
        if (done.get(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS)) {
          ready++;
        }
      } catch (java.util.concurrent.TimeoutException e) {
        pending++;
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("readying an environment failed unexpectedly", e.getCause());
      }
    }
    return new HintOutcome(count, alreadyWarm, starting.size(), ready, pending, shortBecause);
  }

  /**
   * What a {@link #hint} achieved.
   *
   * @param alreadyWarm idle environments that were there already (and are now kept for the hint)
   * @param started new environments started for it
   * @param ready of those, initialized when the answer was given
   * @param pending of those, still initializing then (they join the pool when ready)
   * @param shortBecause why fewer than requested were readied, or null
   */
  public record HintOutcome(int requested, int alreadyWarm, int started, int ready, int pending,
      String shortBecause) {
    /** Started environments neither ready nor pending failed to initialize. */
    public int failed() {
      return started - ready - pending;
    }
  }

  /** The policy in force, e.g. {@code histogram(4h, fallback 10m)}. */
  public String warmingPolicy() {
    return policy.describe();
  }

  /** Pre-warm and hint counters summed over every function version on this node. */
  public WarmingCounters warmingCounters() {
    return warmingCounters(key -> true);
  }

  /** Pre-warm and hint counters summed over the account's function versions. */
  public WarmingCounters warmingCounters(String account) {
    return warmingCounters(key -> key.account().equals(account));
  }

  private WarmingCounters warmingCounters(java.util.function.Predicate<FunctionKey> counted) {
    var seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<FunctionWarming, Boolean>());
    var sum = new long[7];
    for (var entry : idle.entrySet()) {
      var pool = entry.getValue();
      if (counted.test(entry.getKey()) && seen.add(pool.warming)) {
        add(sum, pool.warming);
      }
    }
    return new WarmingCounters(sum[0], sum[1], sum[2], sum[3], sum[4], sum[5], sum[6]);
  }

  private static void add(long[] sum, FunctionWarming warming) {
    sum[0] += warming.prewarmsStarted.sum();
    sum[1] += warming.prewarmsUsed.sum();
    sum[2] += warming.prewarmsWasted.sum();
    sum[3] += warming.prewarmsSkipped.sum();
    sum[4] += warming.hintedStarted.sum();
    sum[5] += warming.hintedUsed.sum();
    sum[6] += warming.hintedWasted.sum();
  }

  /** How environments started ahead of demand fared: used by an invocation, or retired unused. */
  public record WarmingCounters(long prewarmsStarted, long prewarmsUsed, long prewarmsWasted, long prewarmsSkipped,
      long hintedStarted, long hintedUsed, long hintedWasted) {}

  /** The warming state of each version of a function that ran on this node. */
  public List<VersionWarming> warming(String account, String function) {
    var byWarming = new java.util.IdentityHashMap<FunctionWarming, int[]>();
    for (var entry : idle.entrySet()) {
      var key = entry.getKey();
      if (key.account().equals(account) && key.functionName().equals(function)) {
        byWarming.computeIfAbsent(entry.getValue().warming, w -> new int[1])[0] += entry.getValue().size();
      }
    }
    var result = new java.util.ArrayList<VersionWarming>();
    byWarming.forEach((warming, idleCount) -> {
      var version = warming.version;
      var sum = new long[7];
      add(sum, warming);
      result.add(new VersionWarming(version == null ? null : version.version(), idleCount[0],
          warming.history.summary(), new WarmingCounters(sum[0], sum[1], sum[2], sum[3], sum[4], sum[5], sum[6])));
    });
    result.sort(java.util.Comparator.comparing(v -> String.valueOf(v.version())));
    return result;
  }

  /** One function version's warming: idle environments now, what the policy learnt, how readying went. */
  public record VersionWarming(String version, int idleEnvironments, dev.kiln.warming.InvocationHistory.Summary history,
      WarmingCounters counters) {}

  private void maintain() {
    while (!closed) {
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        return;
      }
      for (var set : provisioned.values()) {
        if (set.live() < set.requested && set.failure == null) {
          fill(set);
        }
      }
      prewarmDue();
      if (snapshots != null) {
        // not shorter than the default keep-alive: a zygote is what makes a short keep-alive cheap
        snapshots.retireIdle(settings.keepAlive().compareTo(ZYGOTE_IDLE) > 0 ? settings.keepAlive() : ZYGOTE_IDLE);
      }
      long now = System.nanoTime();
      for (var pool : idle.values()) {
        pool.pruneEmptyLanes();
        for (var environment : pool.stream().toList()) {
          long idleNanos = now - environment.idleSinceNanos;
          if (environment.provisionedFor == null && now - environment.keepUntilNanos > 0) {
            if (pool.remove(environment)) {
              environment.retire();
            }
          } else if (idleNanos > settings.freezeAfter().toNanos()
              && environment.state() == EnvironmentState.IDLE && pool.remove(environment)) {
            // Owned now: nobody can take it between the freeze and its return to the pool.
            environment.freeze();
            pool.offerLast(environment);
          }
        }
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    maintenance.interrupt();
    for (var pool : idle.values()) {
      for (var environment = pool.poll(); environment != null; environment = pool.poll()) {
        environment.retire();
      }
    }
    sandboxes.close();
    if (snapshots != null) {
      snapshots.close();
    }
    backend.close();
    log.debug("worker closed");
  }

  /** A provided runtime whose package has no executable bootstrap: Lambda's Runtime.InvalidEntrypoint. */
  private static class EntrypointMissing extends RuntimeException {
    final byte[] errorDocument;

    EntrypointMissing(String entrypoint) {
      this("Runtime.InvalidEntrypoint", "RequestId: Error: Couldn't find valid bootstrap(s): [" + entrypoint + "]");
    }

    EntrypointMissing(String errorType, String message) {
      super(message, null, false, false);
      this.errorDocument = ("{\"errorType\":" + quote(errorType) + ",\"errorMessage\":" + quote(message) + "}")
          .getBytes(StandardCharsets.UTF_8);
    }

    private static String quote(String s) {
      var sb = new StringBuilder("\"");
      for (char c : s.toCharArray()) {
        if (c == '"' || c == '\\') sb.append('\\').append(c);
        else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
        else sb.append(c);
      }
      return sb.append('"').toString();
    }
  }

  /**
   * Where learned system call profiles are kept ({@link SyscallProfiles}); until this is called, functions asking
   * for {@value SyscallProfileMode#VARIABLE} fail to start with a clear error.
   */
  public void enableSyscallProfiles(Path root) {
    syscallProfiles = new SyscallProfiles(root);
  }

  /** The learned profiles, or null when this node keeps none. */
  public SyscallProfiles syscallProfiles() {
    return syscallProfiles;
  }

  private SyscallProfiles profilesOrRefuse() {
    var profiles = syscallProfiles;
    if (profiles == null) {
      throw new EntrypointMissing("Runtime.SyscallProfileUnavailable", "Error: this node keeps no learned system"
          + " call profiles, so " + SyscallProfileMode.VARIABLE + " cannot be used");
    }
    return profiles;
  }

  private java.util.Set<String> learnedProfile(FunctionVersion version) {
    return profilesOrRefuse().profile(version.account(), version.functionName()).orElseThrow(() ->
        new EntrypointMissing("Runtime.SyscallProfileMissing", "Error: " + version.functionName() + " has no learned"
            + " system call profile yet: run it with " + SyscallProfileMode.VARIABLE + "=learn first"));
  }

  /** Starts recording a training environment's sandbox, before its launch so its whole start is seen. */
  private SyscallProfiles.Training trainingRun(Sandbox sandbox, FunctionVersion version) {
    var profiles = profilesOrRefuse();
    try {
      return profiles.new Training(sandbox.recordSyscalls(), version);
    } catch (dev.kiln.sandbox.SandboxException e) {
      throw new EntrypointMissing("Runtime.SyscallProfileUnavailable", "Error: cannot record the system calls of "
          + version.functionName() + ": " + e.getMessage());
    }
  }
}
