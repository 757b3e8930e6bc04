package dev.kiln.sources;

import dev.kiln.control.EventSourceMappings;
import dev.kiln.core.EventSourceMapping;
import dev.kiln.core.EventSourceMappingState;
import dev.kiln.sources.kafka.KafkaPoller;
import dev.kiln.sources.sqs.SqsClients;
import dev.kiln.sources.sqs.SqsPoller;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the running pollers match the stored mappings: at start-up, whenever the API changed a
 * mapping or deleted a function ({@link #reconcileSoon}), and every {@link #PERIOD} in case a change
 * came from elsewhere. One thread does all of it, so pollers are started and stopped in one place;
 * after acting on a mapping it settles the mapping's state (Creating/Enabling/Updating to Enabled,
 * Disabling to Disabled, Deleting to gone).
 */
public final class PollerManager implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PollerManager.class);
  static final Duration PERIOD = Duration.ofSeconds(10);

  private final EventSourceMappings mappings;
  private final FunctionCaller caller;
  private final SqsClients sqs;
  private final ProcessingResults results;
  /** Only the manager's thread touches this, and close() once that thread has ended. */
  private final Map<String, Poller> running = new HashMap<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition poked = lock.newCondition();
  private boolean pending;
  private boolean closed;
  private Thread thread;

  public PollerManager(EventSourceMappings mappings, FunctionCaller caller, SqsClients sqs) {
    this.mappings = mappings;
    this.caller = caller;
    this.sqs = sqs;
    this.results = new ProcessingResults(mappings);
  }

  /** Starts the manager's thread, whose first pass starts the pollers of the stored mappings. */
  public void start() {
    reconcileSoon();
    thread = Thread.ofVirtual().name("kiln-pollers").start(this::loop);
  }

  /** Asks for a reconciliation now rather than at the next period. */
  public void reconcileSoon() {
    lock.lock();
    try {
      pending = true;
      poked.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void loop() {
    while (awaitWork()) {
      try {
        reconcile();
      } catch (RuntimeException e) {
        log.warn("reconciling event-source mappings failed; trying again in {}: {}", PERIOD, e.toString());
      }
    }
  }

  /** Waits for a poke or the period; false once closed. */
  private boolean awaitWork() {
    lock.lock();
    try {
      long nanos = PERIOD.toNanos();
      while (!pending && !closed && nanos > 0) {
        nanos = poked.awaitNanos(nanos);
      }
      pending = false;
      return !closed;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      lock.unlock();
    }
  }

  private void reconcile() {
    var stored = mappings.all();
    var present = new HashSet<String>();
    for (var mapping : stored) {
      present.add(mapping.uuid());
      try {
        reconcile(mapping);
      } catch (RuntimeException e) {
        // One mapping's trouble must not hold up the others; the next pass tries it again.
        log.warn("mapping={} could not be brought up to date: {}", mapping.uuid(), e.toString());
      }
    }
    for (var uuid : new ArrayList<>(running.keySet())) {
      if (!present.contains(uuid)) {
        // Gone without passing Deleting: its function was deleted.
        stop(uuid);
        results.forget(uuid);
      }
    }
  }

  private void reconcile(EventSourceMapping mapping) {
    boolean wanted = mapping.enabled() && mapping.state() != EventSourceMappingState.Deleting;
    var poller = running.get(mapping.uuid());
    if (poller != null && (!wanted || !poller.settings().equals(mapping.pollerSettings()))) {
      stop(mapping.uuid());
      poller = null;
    }
    if (wanted && poller == null) {
      running.put(mapping.uuid(), startPoller(mapping));
      log.info("mapping={} function={} polling {}", mapping.uuid(), mapping.functionName(), mapping.sourceKey());
    }
    settle(mapping);
  }

  private void settle(EventSourceMapping mapping) {
    if (mapping.state() == EventSourceMappingState.Deleting) {
      mappings.finishDeletion(mapping);
      results.forget(mapping.uuid());
      return;
    }
    var target = mapping.enabled() ? EventSourceMappingState.Enabled : EventSourceMappingState.Disabled;
    if (mapping.state() != target) {
      // Empty when the mapping changed meanwhile; the poke of that change brings another pass.
      mappings.settle(mapping, target);
    }
  }

  private Poller startPoller(EventSourceMapping mapping) {
    return switch (mapping.source()) {
      case EventSourceMapping.Source.Kafka kafka -> KafkaPoller.start(mapping, caller, results);
      case EventSourceMapping.Source.Sqs queue -> SqsPoller.start(mapping, sqs, caller, results);
    };
  }

  private void stop(String uuid) {
    var poller = running.remove(uuid);
    if (poller != null) {
      poller.close();
      log.info("mapping={} stopped polling", uuid);
    }
  }

  /** Stops every poller (each with its grace, all at once) and the manager. */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      poked.signalAll();
    } finally {
      lock.unlock();
    }
    if (thread != null) {
      try {
        thread.join(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    List<Poller> pollers = new ArrayList<>(running.values());
    running.clear();
    // Each poller's close is bounded by its own grace; closing them side by side bounds the whole.
    try (var closing = Executors.newVirtualThreadPerTaskExecutor()) {
      pollers.forEach(p -> closing.execute(p::close));
    }
  }
}
