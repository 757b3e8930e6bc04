package dev.kiln.invoke;

import dev.kiln.admission.Admission;
import dev.kiln.admission.Throttled;
import dev.kiln.control.FilterPattern;
import dev.kiln.core.EnvironmentModes;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import dev.kiln.worker.HostCapacityExceeded;
import dev.kiln.worker.InvocationRequest;
import dev.kiln.worker.InvocationResult;
import dev.kiln.worker.ResultCheck;
import dev.kiln.worker.Worker;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The entry to execution for every kind of caller. Every invocation first gets a concurrency slot
 * from {@link Admission} and gives it back when it ends, however it ends. A synchronous invoke that
 * cannot be admitted is throttled (429); a queued asynchronous one is put back to wait for capacity
 * (see {@link dev.kiln.invoke.async.AsyncInvocations}).
 */
public final class Invoker {
  private final Worker worker;
  private final Admission admission;
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private final Map<String, FilterPattern> successPatterns = new java.util.concurrent.ConcurrentHashMap<>();

  public Invoker(Worker worker, Admission admission) {
    this.worker = worker;
    this.admission = admission;
  }

  public Admission admission() {
    return admission;
  }

  /**
   * The worker's counters as far as they concern {@code account}: its environments by state, cold and
   * warm starts, evictions, memory, zygotes and warming. Nothing of another account's activity shows.
   */
  public Map<String, Object> workerStats(String account) {
    var figures = worker.stats().of(account);
    var states = new java.util.LinkedHashMap<String, Long>();
    for (var state : dev.kiln.worker.EnvironmentState.values()) {
      states.put(state.name(), figures.environments().get(state));
    }
    var doc = new java.util.LinkedHashMap<String, Object>();
    doc.put("environments", states);
    doc.put("coldStarts", figures.coldStarts());
    doc.put("warmStarts", figures.warmStarts());
    doc.put("restores", figures.restores());
    doc.put("zygotes", worker.zygotes(account));
    doc.put("evictions", figures.evictions());
    doc.put("resets", figures.resets());
    doc.put("retries", figures.retries());
    doc.put("singleUseRetirements", figures.singleUseRetirements());
    doc.put("committedMemoryMb", figures.memoryMb());
    doc.put("warmingPolicy", worker.warmingPolicy());
    doc.put("warming", worker.warmingCounters(account));
    return doc;
  }

  /** Keeps {@code count} environments of {@code version} initialized for one provisioned configuration. */
  public void provision(String key, dev.kiln.core.FunctionVersion version, int count) {
    checkRunnable(version.runtime());
    worker.provision(key, version, count);
  }

  public void deprovision(String key) {
    worker.deprovision(key);
  }

  /** A deleted function: its provisioned configurations and environments go. */
  public void forgetFunction(String account, String function) {
    worker.retireFunction(account, function);
  }

  public Worker.ProvisionedStatus provisionedStatus(String key) {
    return worker.provisionedStatus(key);
  }

  /** Fails fast, before anything runs, for a runtime this node cannot execute. */
  public void checkRunnable(String runtime) {
    if (!worker.supports(runtime)) {
      throw new KilnException(ErrorCode.InvalidRuntimeException,
          "Kiln cannot run the runtime " + runtime + " on this node. Use a supported runtime or provided.al2023 "
              + "with your own bootstrap.");
    }
  }

  public InvocationResult invoke(InvocationRequest request) {
    checkRunnable(request.version().runtime());
    try {
      return run(request, () -> {});
    } catch (Throttled t) {
      throw KilnException.throttled(t.getMessage(), t.reason().name(), t.retryAfterSeconds());
    } catch (HostCapacityExceeded e) {
      // Lambda has no reason for a full host; to its caller it is the concurrency limit of the node.
      throw KilnException.throttled(e.getMessage(), "ConcurrentInvocationLimitExceeded", 1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KilnException(ErrorCode.ServiceException, "The invocation was interrupted by a server shutdown.");
    }
  }

  /**
   * Runs a queued invocation. Unlike {@link #invoke}, a throttle is not turned into a 429: the
   * caller keeps the event and tries again later.
   *
   * @param admitted told once the invocation has its concurrency slot (the worker may still refuse
   *     a new environment for the scaling rate or the host's memory)
   * @throws Throttled when admission refuses the invocation now
   * @throws HostCapacityExceeded when no environment fits on this node now
   */
  public InvocationResult invokeQueued(InvocationRequest request, Runnable admitted) throws InterruptedException {
    checkRunnable(request.version().runtime());
    return run(request, admitted);
  }

  private InvocationResult run(InvocationRequest request, Runnable admitted) throws InterruptedException {
    var version = request.version();
    var check = resultCheck(EnvironmentModes.of(version.environment()));
    try (var permit = admission.admit(version.account(), version.functionName())) {
      admitted.run();
      return worker.invoke(request, check);
    }
  }

  /** The function's KILN_RETRY_SUCCESS pattern as the worker applies it to each attempt's result, or null. */
  private ResultCheck resultCheck(EnvironmentModes modes) {
    var text = modes.retrySuccessPattern();
    if (text == null) {
      return null;
    }
    // Patterns were checked when the configuration was saved; each distinct one is parsed once.
    var pattern = successPatterns.computeIfAbsent(text, FilterPattern::parse);
    return result -> {
      try {
        return JSON.readTree(result) instanceof ObjectNode object && pattern.matches(object);
      } catch (JacksonException e) {
        return false; // not JSON: nothing to match
      }
    };
  }
}
