package dev.kiln.batch;

import dev.kiln.control.ControlPlane;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.core.batch.BatchJob;
import dev.kiln.core.batch.BatchOutcome;
import dev.kiln.core.batch.ClaimedBatchItem;
import dev.kiln.invoke.Invoker;
import dev.kiln.worker.InvocationRequest;
import dev.kiln.worker.InvocationResult;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Invokes one item of a job synchronously, as the Invoke API would (admission applies), until it
 * succeeds or has used the job's attempts. Throttles and a function that is not ready yet cost no
 * attempt: the item waits and tries again.
 */
final class ItemInvoker {
  private static final Logger log = LoggerFactory.getLogger(ItemInvoker.class);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final int MAX_ERROR_MESSAGE = 4096;
  private static final long MIN_WAIT_MS = 50;
  private static final long MAX_THROTTLE_WAIT_MS = 1000;
  private static final long MAX_RETRY_WAIT_MS = 5000;

  private final ControlPlane control;
  private final Invoker invoker;
  private final BatchJob job;
  private final FunctionRef ref;
  private final String invokedArn;

  ItemInvoker(ControlPlane control, Invoker invoker, BatchJob job) {
    this.control = control;
    this.invoker = invoker;
    this.job = job;
    this.ref = FunctionRef.parse(job.functionName(), job.qualifier());
    this.invokedArn = control.arn(job.account(), job.functionName(), job.qualifier());
  }

  /** Settles the item, or hands it back untried when {@code stopping} turns true between attempts. */
  BatchOutcome invoke(ClaimedBatchItem item, BooleanSupplier stopping) throws InterruptedException {
    int attempts = item.attempts();
    int throttles = 0;
    while (true) {
      if (stopping.getAsBoolean()) {
        return new BatchOutcome.Released(item.index(), attempts);
      }
      Failure failure;
      try {
        var version = control.resolveForInvoke(job.account(), ref, ThreadLocalRandom.current().nextDouble());
        // Tail logs: the invocation's log is written before it returns, so an item recorded as
        // done always has its log, even when the node is killed right after.
        var result = invoker.invoke(new InvocationRequest(UUID.randomUUID().toString(), version, invokedArn,
            item.payload(), null, true, null));
        attempts++;
        if (!result.failed()) {
          return new BatchOutcome.Succeeded(item.index(), attempts);
        }
        failure = functionError(result);
      } catch (KilnException e) {
        if (e.passesWithTime()) {
          // Over the concurrency limits, or the function is still being prepared: wait, no attempt spent.
          throttles++;
          Thread.sleep(jittered(Math.min(MAX_THROTTLE_WAIT_MS, MIN_WAIT_MS << Math.min(throttles, 5))));
          continue;
        }
        attempts++;
        failure = new Failure(e.code().name(), e.getMessage());
      } catch (RuntimeException e) {
        log.warn("batch job {} item {}: invocation failed unexpectedly", job.jobId(), item.index(), e);
        attempts++;
        failure = new Failure(ErrorCode.ServiceException.name(), "Kiln failed to invoke the item: " + e);
      }
      if (attempts >= job.maxAttempts()) {
        return new BatchOutcome.Failed(item.index(), attempts, failure.type(), truncate(failure.message()));
      }
      throttles = 0;
      Thread.sleep(jittered(Math.min(MAX_RETRY_WAIT_MS, 4 * MIN_WAIT_MS << Math.min(attempts - 1, 6))));
    }
  }

  private record Failure(String type, String message) {}

  /** The errorType and errorMessage of the function's error document, or its raw text when it has none. */
  private static Failure functionError(InvocationResult result) {
    String text = new String(result.payload(), StandardCharsets.UTF_8);
    try {
      var doc = JSON.readTree(result.payload());
      var type = doc.path("errorType").asString(null);
      var message = doc.path("errorMessage").asString(null);
      if (type != null || message != null) {
        return new Failure(type == null ? result.functionError() : type, message == null ? "" : message);
      }
    } catch (JacksonException e) {
      // Not a JSON error document: keep the text.
    }
    return new Failure(result.functionError(), text);
  }

  private static String truncate(String message) {
    return message == null || message.length() <= MAX_ERROR_MESSAGE ? message : message.substring(0, MAX_ERROR_MESSAGE);
  }

  /** Spreads the retries of many items apart so they do not come back all at once. */
  private static long jittered(long ms) {
    return ms / 2 + ThreadLocalRandom.current().nextLong(ms / 2 + 1);
  }
}
