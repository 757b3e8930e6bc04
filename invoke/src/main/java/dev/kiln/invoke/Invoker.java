package dev.kiln.invoke;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import dev.kiln.worker.InvocationRequest;
import dev.kiln.worker.InvocationResult;
import dev.kiln.worker.Worker;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry to execution for every kind of caller: a synchronous Invoke waits for the result; an
 * asynchronous one is accepted and run in the background.
 */
public final class Invoker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Invoker.class);

  private final Worker worker;
  private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();

  public Invoker(Worker worker) {
    this.worker = worker;
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
      return worker.invoke(request);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KilnException(ErrorCode.ServiceException, "The invocation was interrupted by a server shutdown.");
    }
  }

  /**
   * Accepts an Event invocation. It runs in the background; the events issue makes this queue
   * durable with retries and destinations.
   */
  public void invokeAsync(InvocationRequest request) {
    checkRunnable(request.version().runtime());
    background.execute(() -> {
      try {
        var result = worker.invoke(request);
        if (result.failed()) {
          log.info("async invocation {} of {} failed: {}", request.requestId(), request.version().functionName(),
              result.functionError());
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
