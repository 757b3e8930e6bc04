package dev.kiln.invoke.async;

import dev.kiln.admission.Throttled;
import dev.kiln.control.ControlPlane;
import dev.kiln.control.EventInvokeConfigs;
import dev.kiln.core.AsyncEvent;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.EventInvokeConfig;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.KilnException;
import dev.kiln.invoke.Invoker;
import dev.kiln.invoke.async.InvocationRecord.Condition;
import dev.kiln.store.AsyncStore.FunctionKey;
import dev.kiln.store.StoreTransaction;
import dev.kiln.worker.HostCapacityExceeded;
import dev.kiln.worker.InvocationRequest;
import dev.kiln.worker.InvocationResult;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiPredicate;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one claimed event to its next state: removed after a success or once it is discarded
 * (retries exhausted, too old), with its invocation record sent to the configured destination and
 * the payload to the dead-letter queue; or put back to be tried again later, after a function error
 * (counted as an attempt) or a throttle it could not wait out in memory (not counted).
 */
final class EventRunner {
  private static final Logger log = LoggerFactory.getLogger(EventRunner.class);
  /** A settlement that fails on a store error is tried again this often before the claim is left to run out. */
  private static final int SETTLE_ATTEMPTS = 3;
  /** A version resolved longer ago than this is resolved again before an event that waited runs. */
  private static final Duration RESOLVED_FRESH = Duration.ofSeconds(1);

  private final ControlPlane control;
  private final EventInvokeConfigs configs;
  private final Invoker invoker;
  private final GroupCommit commits;
  private final CapacityWaits waits;
  private final QueueDelivery queues;
  private final AsyncSettings settings;
  private final Clock clock;
  private final BooleanSupplier closing;
  private final BiPredicate<FunctionKey, Instant> deletedSince;
  private final Consumer<Instant> dueAt;

  /**
   * @param closing whether the node is shutting down: a run cut short then is left for the restart
   * @param deletedSince whether the function was deleted after the given instant (its events held
   *     in memory are void, even when a function of the same name exists again)
   * @param dueAt told when an event (put back, or a destination record) becomes due
   */
  EventRunner(ControlPlane control, EventInvokeConfigs configs, Invoker invoker, GroupCommit commits,
      CapacityWaits waits, QueueDelivery queues, AsyncSettings settings, Clock clock, BooleanSupplier closing,
      BiPredicate<FunctionKey, Instant> deletedSince, Consumer<Instant> dueAt) {
    this.control = control;
    this.configs = configs;
    this.invoker = invoker;
    this.commits = commits;
    this.waits = waits;
    this.queues = queues;
    this.settings = settings;
    this.clock = clock;
    this.closing = closing;
    this.deletedSince = deletedSince;
    this.dueAt = dueAt;
  }

  /** Runs an event claimed at {@code claimedAt}. */
  void run(AsyncEvent event, Instant claimedAt) {
    try {
      attempt(event, claimedAt);
    } catch (RuntimeException e) {
      // The claim stays until it runs out or the node restarts; then the event is delivered again.
      log.warn("async event {} of {} could not be settled and will be delivered again later: {}", event.requestId(),
          event.functionName(), e.toString());
    }
  }

  private void attempt(AsyncEvent event, Instant claimedAt) {
    var function = new FunctionKey(event.account(), event.functionName());
    Instant now = clock.instant();
    var version = resolve(event, now, claimedAt);
    if (version.isEmpty()) {
      return;
    }
    var config = configs.effective(event.account(), event.functionName(), event.qualifier());
    Instant expiry = event.acceptedAt().plus(config.maximumEventAge());
    if (!now.isBefore(expiry)) {
      discard(event, version.get(), config, Condition.EventAgeExceeded, event.attempts(), null);
      return;
    }
    var run = new Run(event, claimedAt, function, version.get(), now, config, expiry);
    InvocationResult result;
    try {
      result = run.whenAdmitted();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (RuntimeException e) {
      log.warn("async event {} of {} failed to run: {}", event.requestId(), event.functionName(), e.toString());
      result = new InvocationResult(errorDocument(e), "Unhandled", null, run.version.version(), 0, null);
    }
    if (result == null) {
      return;
    }
    int attempts = event.attempts() + 1;
    if (result.failed() && closing.getAsBoolean()) {
      // Most likely the shutdown itself ended the run: not the function's failure to count.
      return;
    }
    if (!result.failed()) {
      discard(event, run.version, config, Condition.Success, attempts, result);
    } else if (attempts > config.retryAttempts()) {
      discard(event, run.version, config, Condition.RetriesExhausted, attempts, result);
    } else {
      Instant retry = clock.instant().plus(settings.retryBase().multipliedBy(attempts));
      if (retry.isAfter(expiry)) {
        retry = expiry;
      }
      log.debug("async event {} of {} failed (attempt {} of {}); retrying at {}", event.requestId(),
          event.functionName(), attempts, config.retryAttempts() + 1, retry);
      putBack(event, attempts, retry);
    }
  }

  /**
   * The version the event's qualifier names now, or empty when the event was settled instead: its
   * function or qualifier is gone (dropped), or the function is not Active yet (put back).
   */
  private Optional<FunctionVersion> resolve(AsyncEvent event, Instant now, Instant claimedAt) {
    if (deletedSince.test(new FunctionKey(event.account(), event.functionName()), claimedAt)) {
      log.info("async event {} dropped: its function {} was deleted", event.requestId(), event.functionName());
      return Optional.empty();
    }
    try {
      var ref = new FunctionRef(Optional.empty(), event.functionName(), Optional.ofNullable(event.qualifier()));
      return Optional.of(control.resolveForInvoke(event.account(), ref, ThreadLocalRandom.current().nextDouble()));
    } catch (KilnException e) {
      if (e.code() == ErrorCode.ResourceNotFoundException) {
        log.info("async event {} dropped: {}", event.requestId(), e.getMessage());
        settle(tx -> tx.async().remove(event.requestId()), 0);
      } else {
        // Not Active yet: it waits in the store as a throttled event without a waiting place does.
        putBack(event, event.attempts(), now.plus(settings.throttleDelay()));
      }
      return Optional.empty();
    }
  }

  /**
   * One try of an event, from the version resolved for it until admission lets it run. A throttle
   * is not an attempt: the event waits in memory for capacity (see {@link CapacityWaits}), or,
   * without a waiting place or after waiting half its lease, goes back to the store.
   */
  private final class Run {
    private final AsyncEvent event;
    private final Instant claimedAt;
    private final FunctionKey function;
    private final EventInvokeConfig config;
    private final Instant expiry;
    private FunctionVersion version;
    private Instant resolvedAt;
    private Instant waitingSince;
    private boolean waiting;

    Run(AsyncEvent event, Instant claimedAt, FunctionKey function, FunctionVersion version, Instant resolvedAt,
        EventInvokeConfig config, Instant expiry) {
      this.event = event;
      this.claimedAt = claimedAt;
      this.function = function;
      this.version = version;
      this.resolvedAt = resolvedAt;
      this.config = config;
      this.expiry = expiry;
    }

    /** The result, or null when the event was settled without running (put back, too old, gone, shutdown). */
    InvocationResult whenAdmitted() throws InterruptedException {
      try {
        while (true) {
          // Without a log tail, as a synchronous invoke: the worker then stores the log off the
          // invocation's path and the environment is free again at once.
          var request = new InvocationRequest(event.requestId(), version,
              control.arn(event.account(), event.functionName(), event.qualifier()), event.payload(),
              event.clientContext(), false, null);
          try {
            return invoker.invokeQueued(request, this::stopWaiting);
          } catch (Throttled | HostCapacityExceeded e) {
            if (!waitForCapacity()) {
              return null;
            }
          }
        }
      } finally {
        stopWaiting();
      }
    }

    /** Waits once; false when the event was settled (or left to the restart) instead. */
    private boolean waitForCapacity() throws InterruptedException {
      Instant now = clock.instant();
      if (!now.isBefore(expiry)) {
        discard(event, version, config, Condition.EventAgeExceeded, event.attempts(), null);
        return false;
      }
      if (closing.getAsBoolean()) {
        return false;
      }
      if (!waiting && waits.enter(function)) {
        waiting = true;
        waitingSince = waitingSince == null ? now : waitingSince;
      }
      if (!waiting || Duration.between(waitingSince, now).compareTo(settings.lease().dividedBy(2)) > 0) {
        Instant retry = now.plus(settings.throttleDelay());
        putBack(event, event.attempts(), retry.isAfter(expiry) ? expiry : retry);
        return false;
      }
      waits.awaitCapacity();
      Instant woken = clock.instant();
      if (Duration.between(resolvedAt, woken).compareTo(RESOLVED_FRESH) > 0
          || deletedSince.test(function, claimedAt)) {
        var fresh = resolve(event, woken, claimedAt);
        if (fresh.isEmpty()) {
          return false;
        }
        version = fresh.get();
        resolvedAt = woken;
      }
      return true;
    }

    private void stopWaiting() {
      if (waiting) {
        waiting = false;
        waits.leave(function);
      }
    }
  }

  /**
   * Takes the event out of the queue for good. Queue destinations get their message first (at
   * least once: a crash before the removal sends it again); a function destination's record is
   * queued in the same transaction that removes the event, so it is neither lost nor doubled.
   */
  private void discard(AsyncEvent event, FunctionVersion version, EventInvokeConfig config, Condition condition,
      int attempts, InvocationResult last) {
    Instant now = clock.instant();
    var functionArn = control.arn(event.account(), event.functionName(), config.qualifier());
    String target = condition == Condition.Success ? config.onSuccess() : config.onFailure();
    if (condition != Condition.Success) {
      log.info("async event {} of {} discarded: {} after {} attempts", event.requestId(), event.functionName(),
          condition, attempts);
    }
    byte[] record = target == null ? null
        : InvocationRecord.of(now, event.requestId(), functionArn, condition, attempts, event.payload(), last);
    if (target != null && Destination.of(target) instanceof Destination.Queue queue) {
      queues.send(queue.arn(), new String(record, StandardCharsets.UTF_8), Map.of(),
          "The " + condition + " record of async event " + event.requestId());
    }
    if (condition != Condition.Success && version.deadLetterTargetArn() != null) {
      var reason = condition == Condition.EventAgeExceeded
          ? "The event was older than " + config.maximumEventAge().toSeconds() + " s (MaximumEventAgeInSeconds)."
          : "Retries exhausted.";
      queues.send(version.deadLetterTargetArn(), new String(event.payload(), StandardCharsets.UTF_8),
          InvocationRecord.deadLetterAttributes(event.requestId(), last, reason),
          "The dead letter of async event " + event.requestId());
    }
    Optional<AsyncEvent> recordEvent = Optional.empty();
    if (target != null && Destination.of(target) instanceof Destination.Function function) {
      recordEvent = Optional.of(new AsyncEvent(UUID.randomUUID().toString(), event.account(), function.name(),
          function.qualifier(), record, null, now, 0, now));
    }
    var toQueue = recordEvent;
    boolean delivered = settle(tx -> {
      tx.async().remove(event.requestId());
      return toQueue.map(e -> tx.async().enqueue(e, null, null)).orElse(true);
    }, record == null ? 0 : record.length);
    if (recordEvent.isPresent()) {
      if (delivered) {
        dueAt.accept(now);
      } else {
        log.warn("the {} record of async event {} was not delivered: the destination function {} does not exist",
            condition, event.requestId(), target);
      }
    }
  }

  private void putBack(AsyncEvent event, int attempts, Instant due) {
    settle(tx -> {
      tx.async().reschedule(event.requestId(), attempts, due);
      return true;
    }, 0);
    dueAt.accept(due);
  }

  private boolean settle(Function<StoreTransaction, Boolean> write, long bytes) {
    for (int attempt = 1; ; attempt++) {
      try {
        return commits.write(write, bytes);
      } catch (RuntimeException e) {
        if (attempt == SETTLE_ATTEMPTS || closing.getAsBoolean()) {
          throw e;
        }
        try {
          Thread.sleep(Duration.ofMillis(100L * attempt));
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  private static byte[] errorDocument(RuntimeException e) {
    var message = e instanceof KilnException k ? k.getMessage() : "Kiln could not run the invocation: " + e;
    var type = e instanceof KilnException k ? k.code().name() : "Kiln.InvocationFailed";
    return InvocationRecord.JSON.writeValueAsBytes(Map.of("errorType", type, "errorMessage", message));
  }
}
