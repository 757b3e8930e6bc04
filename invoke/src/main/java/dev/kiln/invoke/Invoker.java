package dev.kiln.invoke;

import dev.kiln.admission.Admission;
import dev.kiln.admission.Throttled;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import dev.kiln.worker.HostCapacityExceeded;
import dev.kiln.worker.InvocationRequest;
import dev.kiln.worker.InvocationResult;
import dev.kiln.worker.Worker;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry to execution for every kind of caller. Every invocation first gets a concurrency slot
 * from {@link Admission} and gives it back when it ends, however it ends. A synchronous invoke that
 * cannot be admitted is throttled (429); an asynchronous one waits until capacity returns.
 */
public final class Invoker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Invoker.class);
  /** How long an accepted Event may wait for capacity, as Lambda's maximum event age. */
  static final Duration MAX_EVENT_AGE = Duration.ofHours(6);

  private final Worker worker;
  private final Admission admission;
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();

  public Invoker(Worker worker, Admission admission) {
    this.worker = worker;
    this.admission = admission;
  }

  public Admission admission() {
    return admission;
  }

  /** The worker's counters: environments by state, cold and warm starts, evictions, memory. */
  public Map<String, Object> workerStats() {
    var stats = worker.stats();
    var states = new java.util.LinkedHashMap<String, Long>();
    for (var state : dev.kiln.worker.EnvironmentState.values()) {
      states.put(state.name(), stats.inState(state));
    }
    var doc = new java.util.LinkedHashMap<String, Object>();
    doc.put("environments", states);
    doc.put("coldStarts", stats.coldStarts());
    doc.put("warmStarts", stats.warmStarts());
    doc.put("evictions", stats.evictions());
    doc.put("committedMemoryMb", worker.committedMemoryMb());
    doc.put("warmingPolicy", worker.warmingPolicy());
    doc.put("warming", worker.warmingCounters());
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
      return run(request);
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

  private InvocationResult run(InvocationRequest request) throws InterruptedException {
    var version = request.version();
    try (var permit = admission.admit(version.account(), version.functionName())) {
      return worker.invoke(request);
    }
  }

  /**
   * Accepts an Event invocation. It runs in the background, waiting for capacity while throttled;
   * the events issue makes this queue durable with retries and destinations.
   */
  public void invokeAsync(InvocationRequest request) {
    checkRunnable(request.version().runtime());
    long deadline = System.nanoTime() + MAX_EVENT_AGE.toNanos();
    background.execute(() -> {
      try {
        while (true) {
          try {
            var result = run(request);
            if (result.failed()) {
              log.info("async invocation {} of {} failed: {}", request.requestId(),
                  request.version().functionName(), result.functionError());
            }
            return;
          } catch (Throttled | HostCapacityExceeded t) {
            int retryAfter = t instanceof Throttled throttled ? throttled.retryAfterSeconds() : 1;
            if (System.nanoTime() > deadline) {
              log.warn("async invocation {} dropped after waiting {} for capacity", request.requestId(), MAX_EVENT_AGE);
              return;
            }
            Thread.sleep(Math.min(1000L * retryAfter, 1000L));
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        log.warn("async invocation {} failed: {}", request.requestId(), e.toString());
      }
    });
  }

  @Override
  public void close() {
    background.shutdownNow();
    try {
      background.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
