package dev.kiln.schedules;

import dev.kiln.core.Region;
import dev.kiln.core.schedules.LastRun;
import dev.kiln.core.schedules.Schedule;
import dev.kiln.core.schedules.ScheduleEvents;
import dev.kiln.core.schedules.ScheduleHistory;
import dev.kiln.core.schedules.ScheduleTimes;
import dev.kiln.store.MetadataStore;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs schedules. One loop on a virtual thread sleeps until the earliest due schedule (or until a
 * schedule changes), hands each due occurrence to the {@link ScheduleTarget} and then moves the
 * schedule on to its next occurrence in the store.
 *
 * <p><b>At least once.</b> An occurrence counts as run only after the target accepted it: the
 * schedule moves on in the store after that, never before. A crash between the two runs the
 * occurrence again at start-up (the same execution id, the next attempt number), so an occurrence
 * may run twice but is never lost. An occurrence the target refuses is retried with back-off (1 s
 * doubling to 60 s) until the next occurrence is due or 24 hours have passed, then counted as a
 * failure.
 *
 * <p><b>Missed runs.</b> A schedule missed its runs when an occurrence was due while Kiln was not
 * running, or, while running, more than a minute plus the schedule's flexible window ago (the host
 * slept, say). Of all its occurrences due by now, only the latest is run, once, as a catch-up, and
 * only if its scheduled time is younger than the schedule's grace period: its period (for cron, the
 * time to its following occurrence), at most 24 hours; a missed one-time schedule is run if it is
 * younger than 24 hours. The other occurrences are skipped, counted in the schedule's history and
 * logged.
 */
public final class Scheduler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Scheduler.class);

  /** How late an occurrence may run, beyond its flexible window, before it counts as missed. */
  static final Duration MISFIRE_THRESHOLD = Duration.ofMinutes(1);
  /** The loop looks at the store at least this often, whatever the clock does. */
  static final Duration MAX_SLEEP = Duration.ofSeconds(30);
  static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(60);
  /** How long to leave a schedule alone that could not be processed at all. */
  static final Duration PROCESSING_BACKOFF = Duration.ofSeconds(60);
  /** Missed occurrences are counted one by one up to this many; beyond it the count is a lower bound. */
  static final int MAX_COUNTED_MISSES = 10_000;
  private static final int BATCH = 100;

  private final MetadataStore store;
  private final ScheduleTarget target;
  private final Clock clock;
  private final Region region;
  private final Instant startedAt;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private boolean dirty;
  private volatile boolean closed;
  private Thread thread;

  /** Occurrences due before now count as missed during downtime. */
  public Scheduler(MetadataStore store, ScheduleTarget target, Clock clock, Region region) {
    this.store = store;
    this.target = target;
    this.clock = clock;
    this.region = region;
    this.startedAt = clock.instant();
  }

  /** Starts the loop; the first pass applies the missed-run policy to everything due while Kiln was down. */
  public void start() {
    thread = Thread.ofVirtual().name("kiln-scheduler").start(this::loop);
  }

  /** A schedule changed: re-read the store now rather than at the planned time. */
  public void wake() {
    lock.lock();
    try {
      dirty = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    closed = true;
    wake();
    if (thread != null) {
      try {
        if (!thread.join(Duration.ofSeconds(10))) {
          log.warn("the scheduler did not stop within 10 s; leaving it");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void loop() {
    while (!closed) {
      Optional<Instant> next;
      try {
        next = runDue();
      } catch (RuntimeException e) {
        log.warn("scheduler pass failed, next try in 5 s: {}", e.toString());
        next = Optional.of(clock.instant().plusSeconds(5));
      }
      sleepUntil(next);
    }
  }

  private void sleepUntil(Optional<Instant> next) {
    lock.lock();
    try {
      long nanos = next.map(t -> Duration.between(clock.instant(), t).toNanos()).orElse(Long.MAX_VALUE);
      nanos = Math.min(nanos, MAX_SLEEP.toNanos());
      while (!dirty && !closed && nanos > 0) {
        nanos = changed.awaitNanos(nanos);
      }
      dirty = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    } finally {
      lock.unlock();
    }
  }

  /** Runs everything due now; returns when the next schedule is due, if any is. */
  Optional<Instant> runDue() {
    int processed;
    do {
      // Milliseconds, as the store keeps times.
      Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
      var due = store.read(tx -> tx.schedules().due(now, BATCH));
      for (var schedule : due) {
        processSafely(schedule, now);
      }
      processed = due.size();
    } while (processed == BATCH && !closed);
    return store.read(tx -> tx.schedules().nextDue());
  }

  private void processSafely(Schedule schedule, Instant now) {
    try {
      process(schedule, now);
    } catch (RuntimeException e) {
      var d = schedule.definition();
      log.warn("schedule={} account={} could not be processed, next try in {}: {}", d.name(), d.account(),
          PROCESSING_BACKOFF, e.toString());
      save(schedule, schedule.nextOccurrence(), now.plus(PROCESSING_BACKOFF), schedule.attempts(),
          schedule.history());
    }
  }

  private void process(Schedule schedule, Instant now) {
    var d = schedule.definition();
    Instant occurrence = schedule.nextOccurrence();
    if (occurrence == null) {
      return;
    }
    var times = ScheduleTimes.of(d);
    var history = schedule.history();
    int attempt = schedule.attempts() + 1;
    boolean catchUp = false;
    Instant missedBefore = later(startedAt, now.minus(MISFIRE_THRESHOLD).minus(d.flexibleTimeWindow().window()));
    if (schedule.dueAt().isBefore(missedBefore)) {
      var missed = missed(times, occurrence, now, d.flexibleTimeWindow().window());
      var grace = times.grace(missed.latest());
      if (Duration.between(missed.latest(), now).compareTo(grace) >= 0) {
        log.info("schedule={} account={} missed={}{} from={} to={} caughtUp=false: the latest missed run is older "
                + "than the grace period {}, so none is made up for; next={}", d.name(), d.account(),
            missed.count(), missed.atLeast() ? "+" : "", occurrence, missed.latest(), grace, missed.next());
        save(schedule, missed.next(), missed.next() == null ? null : times.runAt(missed.next()), 0,
            history.missed(missed.count()));
        return;
      }
      if (missed.count() > 1) {
        log.info("schedule={} account={} missed={}{} from={} to={} caughtUp=true: running the latest once, "
                + "skipping the others", d.name(), d.account(), missed.count(), missed.atLeast() ? "+" : "",
            occurrence, missed.latest());
      } else {
        log.info("schedule={} account={} missed=1 at={} caughtUp=true", d.name(), d.account(), missed.latest());
      }
      if (!missed.latest().equals(occurrence)) {
        attempt = 1;
      }
      occurrence = missed.latest();
      catchUp = true;
      history = history.missed(missed.count() - 1);
    }
    fire(schedule, times, occurrence, attempt, catchUp, history, now);
  }

  private void fire(Schedule schedule, ScheduleTimes times, Instant occurrence, int attempt, boolean catchUp,
      ScheduleHistory history, Instant now) {
    var d = schedule.definition();
    byte[] payload = ScheduleEvents.payload(d, region, occurrence, attempt).getBytes(StandardCharsets.UTF_8);
    Instant next = times.after(occurrence);
    Instant nextDue = next == null ? null : times.runAt(next);
    String requestId;
    try {
      requestId = target.fire(d.account(), d.functionName(), d.qualifier(), payload);
    } catch (RuntimeException e) {
      String reason = e.getMessage() == null ? e.toString() : e.getMessage();
      Instant retryAt = now.plus(retryDelay(attempt));
      boolean giveUp = Duration.between(occurrence, retryAt).compareTo(ScheduleTimes.MAX_GRACE) > 0
          || (nextDue != null && !nextDue.isAfter(retryAt));
      if (giveUp) {
        log.warn("schedule={} account={} function={} occurrence={} failed after {} attempt(s), giving up: {}",
            d.name(), d.account(), d.functionName(), occurrence, attempt, reason);
        save(schedule, next, nextDue, 0, history.failed(
            new LastRun(occurrence, now, LastRun.Status.FAILED, null, attempt, catchUp, reason)));
      } else {
        if (attempt == 1) {
          log.warn("schedule={} account={} function={} occurrence={} was not accepted, retrying: {}", d.name(),
              d.account(), d.functionName(), occurrence, reason);
        }
        save(schedule, occurrence, retryAt, attempt, history.retrying(
            new LastRun(occurrence, now, LastRun.Status.RETRYING, null, attempt, catchUp, reason)));
      }
      return;
    }
    log.debug("schedule={} account={} occurrence={} attempt={} request={}", d.name(), d.account(), occurrence,
        attempt, requestId);
    save(schedule, next, nextDue, 0, history.invoked(
        new LastRun(occurrence, now, LastRun.Status.INVOKED, requestId, attempt, catchUp, null)));
  }

  /**
   * Moves the schedule on, unless its owner changed its timing meanwhile: then the new timing
   * stands and only the history is recorded.
   */
  private void save(Schedule schedule, Instant next, Instant due, int attempts, ScheduleHistory history) {
    var d = schedule.definition();
    store.write(tx -> {
      if (!tx.schedules().advance(d.account(), d.name(), schedule.timingRevision(), schedule.nextOccurrence(), next,
          due, attempts, history)) {
        tx.schedules().recordHistory(d.account(), d.name(), history);
      }
      return null;
    });
  }

  /** The occurrences from {@code first} due by {@code now}: how many, the latest, and the one after it. */
  record Missed(Instant latest, long count, boolean atLeast, Instant next) {}

  static Missed missed(ScheduleTimes times, Instant first, Instant now, Duration window) {
    Instant latest = first;
    long count = 1;
    boolean atLeast = false;
    Instant next = times.after(first);
    while (next != null && !times.runAt(next).isAfter(now)) {
      latest = next;
      count++;
      next = times.after(next);
      if (count == MAX_COUNTED_MISSES && next != null) {
        // Only the last day or so can still be made up for: jump there rather than count on.
        Instant resume = times.firstAtOrAfter(now.minus(ScheduleTimes.MAX_GRACE).minus(window));
        if (resume != null && resume.isAfter(next)) {
          next = resume;
          atLeast = true;
        }
      }
    }
    return new Missed(latest, count, atLeast, next);
  }

  static Duration retryDelay(int attempt) {
    long seconds = 1L << Math.min(attempt - 1, 10);
    return seconds >= MAX_RETRY_DELAY.toSeconds() ? MAX_RETRY_DELAY : Duration.ofSeconds(seconds);
  }

  private static Instant later(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }
}
