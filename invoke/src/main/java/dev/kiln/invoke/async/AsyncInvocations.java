package dev.kiln.invoke.async;

import dev.kiln.control.ControlPlane;
import dev.kiln.control.EventInvokeConfigs;
import dev.kiln.core.AsyncEvent;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.invoke.Invoker;
import dev.kiln.invoke.QueueSender;
import dev.kiln.store.AsyncStore.FunctionKey;
import dev.kiln.store.MetadataStore;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asynchronous invocation with Lambda's semantics: {@link #accept} stores an event durably (it is
 * committed before accept returns, so a crash never loses it) and a dispatcher runs it later
 * through admission and the worker, at least once. Function errors are retried as the function's
 * event-invoke configuration says, throttles wait for capacity without counting, old events are
 * discarded, and the invocation record goes to the configured destination.
 *
 * <p>The dispatcher claims due events from the store as leases, never more than {@link
 * AsyncSettings#maxInFlight} at once. A newly accepted event does not wait for the next poll: when
 * there is room and no backlog, it is claimed in the same transaction that stores it and starts
 * right after the commit.
 */
public final class AsyncInvocations implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AsyncInvocations.class);
  /** Events claimed per store round trip. */
  private static final int CLAIM_BATCH = 32;
  /** Throttled events of one function that wait in memory for capacity; the rest wait in the store. */
  private static final int WAITING_PER_FUNCTION = 8;

  private final MetadataStore store;
  private final ControlPlane control;
  private final Invoker invoker;
  private final AsyncSettings settings;
  private final String owner;
  private final Clock clock;
  private final GroupCommit commits;
  private final CapacityWaits waits;
  private final EventRunner runner;
  private final Semaphore slots;
  private final Semaphore wake = new Semaphore(0);
  /** Set while due events may be waiting in the store unclaimed; new events then queue behind them. */
  private volatile boolean backlog = true;
  /** The earliest time this node knows an event becomes due, so the dispatcher wakes for it. */
  private final AtomicLong nextDueMillis = new AtomicLong(Long.MAX_VALUE);
  /** When each function was deleted, so its events held in memory are dropped; kept for a lease. */
  private final Map<FunctionKey, Instant> deletedAt = new ConcurrentHashMap<>();
  private volatile boolean closing;
  private Thread dispatcher;

  /**
   * @param queues the node's SQS client for queue destinations and dead-letter queues, or null
   * @param owner this node's stable identity: after a restart it releases the claims it held
   */
  public AsyncInvocations(MetadataStore store, ControlPlane control, EventInvokeConfigs configs, Invoker invoker,
      QueueSender queues, AsyncSettings settings, String owner, Clock clock) {
    this.store = store;
    this.control = control;
    this.invoker = invoker;
    this.settings = settings;
    this.owner = owner;
    this.clock = clock;
    this.slots = new Semaphore(settings.maxInFlight());
    this.commits = new GroupCommit(store);
    // At most half the slots wait for capacity, so throttled functions never hold them all.
    this.waits = new CapacityWaits(WAITING_PER_FUNCTION, settings.maxInFlight() / 2, settings.capacityRecheck(),
        this::claimAgain);
    this.runner = new EventRunner(control, configs, invoker, commits, waits, new QueueDelivery(queues), settings,
        clock, () -> closing, this::deletedSince, this::dueAt);
  }

  /**
   * Makes events this node claimed before a crash due again and starts dispatching. Call once,
   * when the worker is ready to run functions.
   */
  public void start() {
    int released = store.write(tx -> tx.async().releaseClaims(owner));
    long queued = store.read(tx -> tx.async().queued());
    log.info("async queue: {} events queued, {} of them claimed before the last stop and due again", queued, released);
    dispatcher = Thread.ofVirtual().name("async-dispatcher").start(this::dispatch);
  }

  /**
   * Accepts an asynchronous invocation of {@code functionName} (a name or ARN) with {@code
   * qualifier} (null: unqualified), the entry for every kind of caller: Invoke with
   * InvocationType Event, InvokeAsync, destinations, schedules. Returns the request id once the
   * event is durably stored; the version the qualifier names is resolved when the event runs.
   *
   * @param clientContext decoded client-context JSON, or null
   * @throws KilnException ResourceNotFoundException for a function or qualifier that does not exist,
   *     ResourceConflictException for a function that is not Active yet, InvalidRuntimeException for
   *     a runtime this node cannot run
   */
  public String accept(String account, String functionName, String qualifier, byte[] payload, String clientContext) {
    var ref = FunctionRef.parse(functionName, qualifier);
    var version = control.resolveForInvoke(account, ref, ThreadLocalRandom.current().nextDouble());
    invoker.checkRunnable(version.runtime());
    Instant now = clock.instant();
    var event = new AsyncEvent(UUID.randomUUID().toString(), account, ref.name(), ref.qualifier().orElse(null), payload,
        clientContext, now, 0, now);
    boolean runNow = !backlog && slots.tryAcquire();
    boolean stored;
    try {
      stored = commits.write(tx -> tx.async().enqueue(event, runNow ? owner : null,
          runNow ? now.plus(settings.lease()) : null), payload.length);
    } catch (RuntimeException e) {
      if (runNow) {
        slots.release();
      }
      throw e;
    }
    if (!stored) {
      if (runNow) {
        slots.release();
      }
      throw KilnException.notFound("Function not found: " + control.arn(account, ref.name(), null));
    }
    if (runNow) {
      launch(event, now);
    } else {
      claimAgain();
    }
    return event.requestId();
  }

  /**
   * A deleted function's queued events went with it in the store; this drops those held in memory
   * (running or waiting for capacity), even when a function of the same name is created again.
   */
  public void forgetFunction(String account, String functionName) {
    Instant now = clock.instant();
    deletedAt.values().removeIf(at -> at.isBefore(now.minus(settings.lease())));
    deletedAt.put(new FunctionKey(account, functionName), now);
    waits.invocationEnded();
  }

  private boolean deletedSince(FunctionKey function, Instant claimedAt) {
    var deleted = deletedAt.get(function);
    return deleted != null && !deleted.isBefore(claimedAt);
  }

  /** Called when an event becomes due at {@code due}: now (a destination record) or later (a retry). */
  private void dueAt(Instant due) {
    long millis = due.toEpochMilli();
    nextDueMillis.accumulateAndGet(millis, Math::min);
    if (millis <= clock.millis()) {
      claimAgain();
    }
  }

  /** Due events may be waiting that the dispatcher has not claimed: it looks again at once. */
  private void claimAgain() {
    backlog = true;
    wake.release();
  }

  private void dispatch() {
    while (!closing) {
      try {
        claimWhileThereIsRoom();
        long now = clock.millis();
        long due = nextDueMillis.get();
        long sleep = Math.min(due - now, settings.pollInterval().toMillis());
        if (sleep > 0 && wake.tryAcquire(sleep, TimeUnit.MILLISECONDS)) {
          wake.drainPermits();
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("async dispatcher could not claim events, trying again in {}: {}", settings.pollInterval(),
            e.toString());
        try {
          Thread.sleep(settings.pollInterval());
        } catch (InterruptedException interrupted) {
          return;
        }
      }
    }
  }

  /** Claims due events while fewer than maxInFlight are running; a finishing event wakes the dispatcher again. */
  private void claimWhileThereIsRoom() {
    long now = clock.millis();
    // Polling now covers everything due until now.
    nextDueMillis.updateAndGet(due -> due <= now ? Long.MAX_VALUE : due);
    while (!closing) {
      int room = 0;
      while (room < CLAIM_BATCH && slots.tryAcquire()) {
        room++;
      }
      if (room == 0) {
        backlog = true;
        return;
      }
      Instant at = clock.instant();
      int limit = room;
      List<AsyncEvent> claimed;
      try {
        var passOver = waits.saturated();
        claimed = store.write(tx -> tx.async().claimDue(at, owner, at.plus(settings.lease()), limit, passOver));
      } catch (RuntimeException e) {
        slots.release(room);
        throw e;
      }
      slots.release(room - claimed.size());
      claimed.forEach(event -> launch(event, at));
      if (claimed.size() < room) {
        backlog = false;
        return;
      }
    }
  }

  private void launch(AsyncEvent event, Instant claimedAt) {
    Thread.ofVirtual().start(() -> {
      try {
        runner.run(event, claimedAt);
      } finally {
        slots.release();
        waits.invocationEnded();
        if (backlog) {
          wake.release();
        }
      }
    });
  }

  /**
   * Stops claiming, gives running events a moment to finish, then releases the claims still held so
   * those events are due again (here after a restart, or on another node at once).
   */
  @Override
  public void close() {
    closing = true;
    wake.release();
    try {
      if (dispatcher != null) {
        dispatcher.join(settings.pollInterval().multipliedBy(2));
      }
      if (!slots.tryAcquire(settings.maxInFlight(), 5, TimeUnit.SECONDS)) {
        log.info("async queue: {} events still running at shutdown will be delivered again",
            settings.maxInFlight() - slots.availablePermits());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    commits.close();
    try {
      store.write(tx -> tx.async().releaseClaims(owner));
    } catch (RuntimeException e) {
      log.warn("async queue: releasing claims at shutdown failed ({}); they are released at the next start",
          e.toString());
    }
  }
}
