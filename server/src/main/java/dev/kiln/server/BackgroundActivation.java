package dev.kiln.server;

import dev.kiln.control.CodeActivation;
import dev.kiln.control.ControlPlane;
import dev.kiln.core.FunctionVersion;
import dev.kiln.worker.Worker;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Activates accepted versions off the request thread, so CreateFunction answers Pending at once
 * and the function turns Active moments later, as on Lambda. Code preparation for execution
 * environments plugs in here.
 */
final class BackgroundActivation implements CodeActivation, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackgroundActivation.class);

  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Worker worker;
  private volatile ControlPlane control;

  /** The worker prepares each version (code, replacement environments) before it turns Active. */
  BackgroundActivation(Worker worker) {
    this.worker = worker;
  }

  void attach(ControlPlane controlPlane) {
    this.control = controlPlane;
  }

  @Override
  public void activate(FunctionVersion version) {
    executor.execute(() -> {
      try {
        worker.prepare(version);
        control.markReady(version.account(), version.functionName());
        worker.retireSuperseded(version);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        // The version stays Pending/InProgress and is activated again on the next start.
        log.warn("activation of {}:{} failed: {}", version.functionName(), version.version(), e.toString());
      }
    });
  }

  @Override
  public void close() {
    executor.shutdown();
    try {
      executor.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
