package dev.kiln.batch;

import dev.kiln.control.Batches;
import dev.kiln.control.ControlPlane;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.core.batch.BatchJob;
import dev.kiln.core.batch.BatchJobState;
import dev.kiln.invoke.Invoker;
import dev.kiln.store.MetadataStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs this node's batch jobs: every job the store says is Running has one {@link JobRun} here.
 * The API changes a job's state in the store and then tells the runner ({@link #wake}, {@link
 * #stop}); a run also reads the state in every round, so it ends by itself when the job was paused
 * or deleted elsewhere.
 */
public final class BatchRunner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BatchRunner.class);
  /** How long closing the node waits for the items in flight to finish and be recorded. */
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

  private record JobKey(String account, String jobId) {}

  private final MetadataStore store;
  private final ControlPlane control;
  private final Invoker invoker;
  private final Clock clock;
  private final Map<JobKey, JobRun> runs = new HashMap<>();
  private boolean closed;

  public BatchRunner(MetadataStore store, ControlPlane control, Invoker invoker, Clock clock) {
    this.store = store;
    this.control = control;
    this.invoker = invoker;
    this.clock = clock;
  }

  /**
   * Once at start-up: items the previous process had claimed go back to Pending (it may have died
   * before invoking them), and the jobs that were running run again.
   */
  public void resumeAfterRestart() {
    var jobs = store.read(tx -> {
      var all = new ArrayList<>(tx.batches().jobsInState(BatchJobState.Running));
      all.addAll(tx.batches().jobsInState(BatchJobState.Paused));
      return all;
    });
    for (var job : jobs) {
      int requeued = store.write(tx -> tx.batches().requeueRunning(job.account(), job.jobId()));
      if (requeued > 0) {
        log.info("batch job {}: {} items claimed before the restart are pending again", job.jobId(), requeued);
      }
      if (job.state() == BatchJobState.Running) {
        wake(job.account(), job.jobId());
      }
    }
  }

  /** Starts running the job if the store says it is Running and it does not run here yet. */
  public synchronized void wake(String account, String jobId) {
    if (closed || runs.containsKey(new JobKey(account, jobId))) {
      // A run that is still ending checks the store once it has ended and starts again if needed.
      return;
    }
    start(account, jobId);
  }

  /** Asks the job's run, if any, to end: items in flight finish and are recorded. */
  public synchronized void stop(String account, String jobId) {
    var run = runs.get(new JobKey(account, jobId));
    if (run != null) {
      run.stop();
    }
  }

  /** A deleted function's jobs were deleted with it: their runs end. */
  public synchronized void forgetFunction(String account, String functionName) {
    runs.values().stream()
        .filter(run -> run.job().account().equals(account) && run.job().functionName().equals(functionName))
        .forEach(JobRun::stop);
  }

  /** Items settled per second lately, 0 when the job does not run here. */
  public synchronized double ratePerSecond(String account, String jobId) {
    var run = runs.get(new JobKey(account, jobId));
    return run == null ? 0 : run.ratePerSecond();
  }

  /** The concurrency the job runs with here (its request capped by the function's reservation), if it runs. */
  public synchronized Optional<Integer> concurrency(String account, String jobId) {
    return Optional.ofNullable(runs.get(new JobKey(account, jobId))).map(JobRun::concurrency);
  }

  private void start(String account, String jobId) {
    var key = new JobKey(account, jobId);
    // No run of this job is active on this node, so whatever is still Running was claimed by a run
    // that ended without recording it.
    Optional<BatchJob> found = store.write(tx -> {
      var job = tx.batches().job(account, jobId).filter(j -> j.state() == BatchJobState.Running);
      job.ifPresent(j -> tx.batches().requeueRunning(account, jobId));
      return job;
    });
    if (found.isEmpty()) {
      return;
    }
    var job = found.get();
    int concurrency;
    try {
      concurrency = concurrency(job);
    } catch (KilnException e) {
      log.warn("batch job {} cannot run: {}", jobId, e.getMessage());
      return;
    }
    var run = new JobRun(job, concurrency, store, new ItemInvoker(control, invoker, job), clock,
        () -> ended(key));
    runs.put(key, run);
    run.start();
  }

  /** The job's own concurrency (or the default) capped by the function's reserved concurrency. */
  private int concurrency(BatchJob job) {
    int requested = job.concurrency() == null ? Batches.DEFAULT_CONCURRENCY : job.concurrency();
    var reserved = control.getFunctionConcurrency(job.account(), FunctionRef.parse(job.functionName(), null));
    // A reservation of 0 throttles every invocation; one worker then waits for it to change.
    return reserved.map(r -> Math.max(1, Math.min(requested, r))).orElse(requested);
  }

  private synchronized void ended(JobKey key) {
    var run = runs.remove(key);
    if (closed || run == null || run.crashed()) {
      return;
    }
    // Resumed while this run was still finishing its last items: run again.
    start(key.account(), key.jobId());
  }

  /** Ends every run, waiting a bounded time for the items in flight to be recorded. */
  @Override
  public void close() {
    List<JobRun> active;
    synchronized (this) {
      closed = true;
      active = List.copyOf(runs.values());
    }
    active.forEach(JobRun::stop);
    long deadline = System.nanoTime() + CLOSE_WAIT.toNanos();
    for (var run : active) {
      try {
        if (!run.awaitEnd(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
          run.abandon();
          log.warn("batch job {}: items still in flight at shutdown run again on the next start", run.job().jobId());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        run.abandon();
      }
    }
  }
}
