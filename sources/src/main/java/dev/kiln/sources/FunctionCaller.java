package dev.kiln.sources;

import dev.kiln.control.ControlPlane;
import dev.kiln.core.EventSourceMapping;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.invoke.Invoker;
import dev.kiln.worker.InvocationRequest;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Invokes a mapping's function synchronously with one batch, as Lambda's pollers do, through the
 * same admission as any Invoke. A throttle or a function that is not ready yet is waited out with
 * growing pauses (the batch is never dropped for it); anything else ends the call as failed.
 */
public final class FunctionCaller {
  private static final Logger log = LoggerFactory.getLogger(FunctionCaller.class);
  static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private final ControlPlane control;
  private final Invoker invoker;

  public FunctionCaller(ControlPlane control, Invoker invoker) {
    this.control = control;
    this.invoker = invoker;
  }

  /**
   * Runs the function with {@code event}; {@code running} says whether the poller still wants the
   * answer (a stopped poller does not wait out throttles).
   */
  public Outcome call(EventSourceMapping mapping, byte[] event, BooleanSupplier running) {
    var ref = FunctionRef.parse(mapping.functionName(), mapping.qualifier());
    var invokedArn = control.arn(mapping.account(), mapping.functionName(), mapping.qualifier());
    long backoffMillis = FIRST_BACKOFF.toMillis();
    while (true) {
      try {
        var version = control.resolveForInvoke(mapping.account(), ref, ThreadLocalRandom.current().nextDouble());
        var result = invoker.invoke(new InvocationRequest(UUID.randomUUID().toString(), version, invokedArn, event,
            null, false, null));
        if (result.failed()) {
          return new Outcome.Failed("Function call failed (" + result.functionError() + ")");
        }
        return new Outcome.Succeeded(result.payload());
      } catch (KilnException e) {
        if (!e.passesWithTime()) {
          return new Outcome.Failed(e.getMessage());
        }
        if (!running.getAsBoolean()) {
          return new Outcome.Failed("the poller stopped while the function was throttled");
        }
        long pause = e.retryAfterSeconds() == null ? backoffMillis
            : Math.min(MAX_BACKOFF.toMillis(), Math.max(backoffMillis, e.retryAfterSeconds() * 1000L));
        log.debug("mapping={} function={} {}; retrying in {} ms", mapping.uuid(), mapping.functionName(),
            e.code(), pause);
        try {
          // Jitter keeps many partitions' pollers from retrying in lock step.
          Thread.sleep(pause / 2 + ThreadLocalRandom.current().nextLong(pause / 2 + 1));
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return new Outcome.Failed("the poller stopped while the function was throttled");
        }
        backoffMillis = Math.min(MAX_BACKOFF.toMillis(), backoffMillis * 2);
      }
    }
  }
}
