package dev.kiln.batch;

import dev.kiln.core.batch.BatchJob;
import dev.kiln.core.batch.BatchJobState;
import dev.kiln.core.batch.BatchOutcome;
import dev.kiln.core.batch.ClaimedBatchItem;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job running on this node: {@code concurrency} worker threads invoke items from a local
 * buffer, while one coordinator talks to the store in rounds: each round, in one transaction,
 * records the outcomes that came in since the last one, claims more items when the buffer runs
 * low, and notices when the job was paused, deleted or is done. Batching the store work this way
 * keeps it to a few transactions per second however many items go through.
 *
 * <p>Nothing here is the checkpoint: an item is Running in the store from its claim until its
 * outcome is recorded, so whatever this process loses (buffered items, outcomes not yet written)
 * is requeued when the node starts again and invoked again: at least once, never lost.
 */
final class JobRun {
  private static final Logger log = LoggerFactory.getLogger(JobRun.class);
  private static final int MIN_CLAIM = 32;
  private static final int MAX_CLAIM = 256;
  /** How long outcomes are gathered after the first one before they are written together. */
  private static final long GATHER_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
  /** How long the coordinator waits for news when it has nothing to do. */
  private static final long IDLE_WAIT_MS = 200;
  private static final Duration STORE_RETRY = Duration.ofSeconds(1);

  private final BatchJob job;
  private final int concurrency;
  private final int claimSize;
  private final MetadataStore store;
  private final ItemInvoker invoker;
  private final Clock clock;
  private final BlockingQueue<ClaimedBatchItem> buffer = new LinkedBlockingQueue<>();
  private final BlockingQueue<BatchOutcome> outcomes = new LinkedBlockingQueue<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final RateMeter rate = new RateMeter(System.nanoTime());
  private final List<Thread> workers = new ArrayList<>();
  /** Outcomes taken from the queue but not yet in the store; the coordinator's alone. */
  private final List<BatchOutcome> unwritten = new ArrayList<>();
  private final Thread coordinator;
  private volatile boolean stopping;
  /** Set when the run ended by an unexpected failure rather than by a pause, a delete or the end of the job. */
  private volatile boolean crashed;
  /** Set when the node stops without waiting for this run: then nothing more is written for it. */
  private volatile boolean abandoned;

  JobRun(BatchJob job, int concurrency, MetadataStore store, ItemInvoker invoker, Clock clock, Runnable onEnd) {
    this.job = job;
    this.concurrency = concurrency;
    this.claimSize = Math.clamp(2L * concurrency, MIN_CLAIM, MAX_CLAIM);
    this.store = store;
    this.invoker = invoker;
    this.clock = clock;
    this.coordinator = Thread.ofVirtual().name("batch-" + job.jobId()).unstarted(() -> {
      try {
        coordinate();
      } finally {
        onEnd.run();
      }
    });
  }

  void start() {
    coordinator.start();
  }

  /** Asks the run to end: no new items are taken, those in flight finish and are recorded. */
  void stop() {
    stopping = true;
  }

  /** Waits up to {@code timeout} for the run to end; true when it did. */
  boolean awaitEnd(Duration timeout) throws InterruptedException {
    return coordinator.join(timeout);
  }

  /**
   * The node is closing without waiting any longer: outcomes of invocations cut short by the
   * shutdown must not be recorded as failures. Their items stay Running and are requeued on the
   * next start.
   */
  void abandon() {
    abandoned = true;
    stopping = true;
  }

  BatchJob job() {
    return job;
  }

  int concurrency() {
    return concurrency;
  }

  boolean crashed() {
    return crashed;
  }

  double ratePerSecond() {
    return rate.perSecond(System.nanoTime());
  }

  private void coordinate() {
    try {
      for (int i = 0; i < concurrency; i++) {
        workers.add(Thread.ofVirtual().name("batch-" + job.jobId() + "-" + i).start(this::work));
      }
      log.info("batch job {} of {} running with concurrency {}", job.jobId(), job.functionName(), concurrency);
      rounds();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      crashed = true;
      log.error("batch job {} stopped by an unexpected failure; it resumes when the node restarts or the job is "
          + "started again", job.jobId(), e);
    } finally {
      stopping = true;
      finish();
    }
  }

  private void rounds() throws InterruptedException {
    boolean exhausted = false;
    while (!stopping) {
      int want = !exhausted && buffer.size() <= claimSize / 2 ? claimSize - buffer.size() : 0;
      gather(unwritten, want > 0 ? 0 : IDLE_WAIT_MS);
      boolean idle = exhausted && buffer.isEmpty() && inFlight.get() == 0 && outcomes.isEmpty();
      if (unwritten.isEmpty() && want == 0 && !idle) {
        continue;
      }
      Round round;
      try {
        round = round(unwritten, want, idle);
      } catch (StoreException e) {
        log.warn("batch job {}: store round failed, retrying in {}: {}", job.jobId(), STORE_RETRY, e.getMessage());
        Thread.sleep(STORE_RETRY);
        continue;
      }
      rate.add(settled(unwritten), System.nanoTime());
      unwritten.clear();
      buffer.addAll(round.claimed());
      if (want > 0) {
        exhausted = round.claimed().size() < want;
      } else if (idle) {
        exhausted = !round.pendingLeft();
      }
      if (round.over()) {
        return;
      }
    }
  }

  /**
   * What a round found: the items it claimed, whether the run is over, and (in a round that
   * checked for the end) whether Pending items are left.
   */
  private record Round(List<ClaimedBatchItem> claimed, boolean over, boolean pendingLeft) {}

  private Round round(List<BatchOutcome> toRecord, int want, boolean idle) {
    return store.write(tx -> {
      var batches = tx.batches();
      var current = batches.job(job.account(), job.jobId());
      batches.record(job.account(), job.jobId(), toRecord);
      if (current.isEmpty() || current.get().state() != BatchJobState.Running) {
        log.info("batch job {} is {}: its run ends", job.jobId(), current.map(j -> j.state().name()).orElse("deleted"));
        return new Round(List.of(), true, false);
      }
      var claimed = want > 0 ? batches.claim(job.account(), job.jobId(), want) : List.<ClaimedBatchItem>of();
      if (!idle) {
        return new Round(claimed, false, false);
      }
      var counts = batches.counts(job.account(), job.jobId());
      if (counts.pending() == 0 && counts.running() == 0) {
        batches.updateJob(current.get().completed(clock.instant()));
        log.info("batch job {} completed: {} succeeded, {} failed", job.jobId(), counts.succeeded(), counts.failed());
        return new Round(claimed, true, false);
      }
      return new Round(claimed, false, counts.pending() > 0);
    });
  }

  /** Waits up to {@code waitMs} for a first outcome, then gathers more for a moment so they are written together. */
  private void gather(List<BatchOutcome> into, long waitMs) throws InterruptedException {
    var first = outcomes.poll(waitMs, TimeUnit.MILLISECONDS);
    if (first == null) {
      return;
    }
    into.add(first);
    long until = System.nanoTime() + GATHER_NANOS;
    while (into.size() < MAX_CLAIM) {
      long left = until - System.nanoTime();
      var next = left > 0 ? outcomes.poll(left, TimeUnit.NANOSECONDS) : outcomes.poll();
      if (next == null) {
        return;
      }
      into.add(next);
    }
  }

  private void work() {
    try {
      while (!stopping) {
        var item = buffer.poll(IDLE_WAIT_MS, TimeUnit.MILLISECONDS);
        if (item == null) {
          continue;
        }
        inFlight.incrementAndGet();
        try {
          outcomes.add(invoker.invoke(item, () -> stopping));
        } finally {
          inFlight.decrementAndGet();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Lets the items in flight finish, then records them and hands the untouched buffer back. */
  private void finish() {
    try {
      for (var worker : workers) {
        worker.join();
      }
    } catch (InterruptedException e) {
      // The node is going down: whatever is not recorded stays Running and is requeued on the next start.
      Thread.currentThread().interrupt();
    }
    if (abandoned) {
      return;
    }
    var last = new ArrayList<>(unwritten);
    outcomes.drainTo(last);
    var untouched = new ArrayList<ClaimedBatchItem>();
    buffer.drainTo(untouched);
    untouched.forEach(item -> last.add(new BatchOutcome.Released(item.index(), item.attempts())));
    if (last.isEmpty()) {
      return;
    }
    try {
      store.write(tx -> {
        tx.batches().record(job.account(), job.jobId(), last);
        return null;
      });
    } catch (RuntimeException e) {
      log.warn("batch job {}: could not record the last {} items ({}); they run again on the next start",
          job.jobId(), last.size(), e.getMessage());
    }
  }

  private static long settled(List<BatchOutcome> outcomes) {
    return outcomes.stream().filter(o -> !(o instanceof BatchOutcome.Released)).count();
  }
}
