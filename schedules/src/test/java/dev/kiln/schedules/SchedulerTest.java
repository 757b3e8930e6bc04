package dev.kiln.schedules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kiln.control.ConfigurationChange;
import dev.kiln.control.ControlPlane;
import dev.kiln.control.CreateFunctionRequest;
import dev.kiln.control.ScheduleRequest;
import dev.kiln.control.Schedules;
import dev.kiln.core.KilnException;
import dev.kiln.core.Region;
import dev.kiln.core.schedules.FlexibleTimeWindow;
import dev.kiln.core.schedules.LastRun;
import dev.kiln.core.schedules.Schedule;
import dev.kiln.core.schedules.ScheduleDefinition;
import dev.kiln.core.schedules.ScheduleState;
import dev.kiln.core.schedules.ScheduleTimes;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreConfig;
import dev.kiln.store.Stores;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler against a real SQLite store, driven pass by pass on a clock the test moves; a
 * recording target stands in for the invoker (the e2e tests run the real one).
 */
class SchedulerTest {
  private static final String ACCOUNT = "123456789012";
  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
  private static final Pattern TIME = Pattern.compile("\"time\":\"([^\"]+)\"");
  private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");

  @TempDir Path dir;
  private MetadataStore store;
  private ControlPlane control;
  private Schedules schedules;
  private final TestClock clock = new TestClock(T0);
  private final RecordingTarget target = new RecordingTarget();
  private Scheduler scheduler;

  /** A clock the test moves by hand. */
  static final class TestClock extends Clock {
    private volatile Instant now;

    TestClock(Instant now) {
      this.now = now;
    }

    void set(Instant instant) {
      now = instant;
    }

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  record Fire(String function, String qualifier, String payload) {
    String time() {
      Matcher m = TIME.matcher(payload);
      return m.find() ? m.group(1) : null;
    }

    String id() {
      Matcher m = ID.matcher(payload);
      return m.find() ? m.group(1) : null;
    }
  }

  /** Records every occurrence it accepts; can be told to refuse, or to do something while accepting. */
  static final class RecordingTarget implements ScheduleTarget {
    final List<Fire> fires = new CopyOnWriteArrayList<>();
    final AtomicInteger refusals = new AtomicInteger();
    volatile int refuseNext;
    volatile Consumer<Fire> whileAccepting = f -> {};

    @Override
    public String fire(String account, String functionName, String qualifier, byte[] payload) {
      if (refuseNext > 0) {
        refuseNext--;
        refusals.incrementAndGet();
        throw KilnException.conflict("The function is currently in the following state: Pending");
      }
      var fire = new Fire(functionName, qualifier, new String(payload, StandardCharsets.UTF_8));
      fires.add(fire);
      whileAccepting.accept(fire);
      return "request-" + fires.size();
    }
  }

  /** A crash of the whole process right after the target accepted, before anything else ran. */
  static final class SimulatedCrash extends Error {}

  @BeforeEach
  void open() {
    openStore();
    control.createFunction(ACCOUNT, new CreateFunctionRequest("fn", new ConfigurationChange("nodejs22.x",
        "index.handler", "arn:aws:iam::123456789012:role/test", null, null, null, null, null, null), zip(), null,
        false));
    control.markReady(ACCOUNT, "fn");
    scheduler = new Scheduler(store, target, clock, Region.DEFAULT);
  }

  private void openStore() {
    store = Stores.open(new StoreConfig.Sqlite(dir.resolve("kiln.db")));
    control = new ControlPlane(store, new CodeStore(dir.resolve("code")), Region.DEFAULT, clock, v -> {});
    schedules = new Schedules(store, control, clock, () -> {
      if (scheduler != null) {
        scheduler.wake();
      }
    });
  }

  /** kill -9 and start again at the clock's time: a new store connection and a new scheduler. */
  private void restart() {
    store.close();
    openStore();
    scheduler = new Scheduler(store, target, clock, Region.DEFAULT);
  }

  @AfterEach
  void close() {
    scheduler.close();
    store.close();
  }

  private Schedule create(String name, String expression) {
    return create(new ScheduleRequest(name, expression, null, null, null, null, null, null, "fn", null, null));
  }

  private Schedule create(ScheduleRequest request) {
    return schedules.create(ACCOUNT, request);
  }

  private Schedule stored(String name) {
    return schedules.get(ACCOUNT, name);
  }

  private static List<String> times(List<Fire> fires) {
    return fires.stream().map(Fire::time).toList();
  }

  @Test
  void eachOccurrenceRunsOnceAndTheScheduleMovesOn() {
    create("every5", "rate(5 minutes)");
    scheduler.runDue();
    scheduler.runDue();
    assertThat(times(target.fires)).containsExactly("2026-03-01T10:00:00Z");
    clock.advance(Duration.ofMinutes(4));
    assertThat(scheduler.runDue()).contains(T0.plus(Duration.ofMinutes(5)));
    assertThat(target.fires).hasSize(1);
    clock.advance(Duration.ofMinutes(1));
    scheduler.runDue();
    assertThat(times(target.fires)).containsExactly("2026-03-01T10:00:00Z", "2026-03-01T10:05:00Z");

    var schedule = stored("every5");
    assertThat(schedule.nextOccurrence()).isEqualTo(T0.plus(Duration.ofMinutes(10)));
    assertThat(schedule.history().invocations()).isEqualTo(2);
    assertThat(schedule.history().lastRun()).isEqualTo(new LastRun(T0.plus(Duration.ofMinutes(5)),
        T0.plus(Duration.ofMinutes(5)), LastRun.Status.INVOKED, "request-2", 1, false, null));

    Fire fire = target.fires.getFirst();
    assertThat(fire.function()).isEqualTo("fn");
    assertThat(fire.qualifier()).isNull();
    assertThat(fire.payload()).contains("\"detail-type\":\"Scheduled Event\"")
        .contains("\"resources\":[\"arn:aws:scheduler:us-east-1:123456789012:schedule/default/every5\"]");
  }

  @Test
  void theInputIsSentWithItsContextAttributesFilledIn() {
    create(new ScheduleRequest("ctx", "cron(0 11 * * ? *)", "Europe/Berlin", null, null, null, null, null, "fn",
        "{\"at\":\"<aws.scheduler.scheduled-time>\",\"attempt\":<aws.scheduler.attempt-number>}", null));
    clock.set(Instant.parse("2026-03-01T10:00:00Z"));
    scheduler.runDue();
    assertThat(target.fires).extracting(Fire::payload).containsExactly("{\"at\":\"2026-03-01T10:00:00Z\",\"attempt\":1}");
  }

  @Test
  void aDisabledScheduleNeverRuns() {
    create(new ScheduleRequest("off", "rate(1 minute)", null, null, null, "DISABLED", null, null, "fn", null, null));
    for (int i = 0; i < 5; i++) {
      clock.advance(Duration.ofMinutes(1));
      scheduler.runDue();
    }
    assertThat(target.fires).isEmpty();
    assertThat(stored("off").history().invocations()).isZero();
  }

  @Test
  void aFlexibleWindowRunsTheOccurrenceAtItsOffset() {
    var created = create(new ScheduleRequest("flex", "cron(0 12 * * ? *)", null, null, null, null, "FLEXIBLE", 60,
        "fn", null, null));
    Instant noon = Instant.parse("2026-03-01T12:00:00Z");
    assertThat(created.nextOccurrence()).isEqualTo(noon);
    Instant runAt = created.dueAt();
    assertThat(runAt).isAfter(noon).isBefore(noon.plus(Duration.ofMinutes(60)));
    clock.set(runAt.minusMillis(1));
    scheduler.runDue();
    assertThat(target.fires).isEmpty();
    clock.set(runAt);
    scheduler.runDue();
    assertThat(times(target.fires)).as("the event names the scheduled time, not the run time")
        .containsExactly("2026-03-01T12:00:00Z");
  }

  @Test
  void anOccurrenceTheTargetRefusesIsRetriedNotLost() {
    create("hourly", "cron(0 * * * ? *)");
    target.refuseNext = 2;
    clock.set(Instant.parse("2026-03-01T11:00:00Z"));
    scheduler.runDue();
    var retrying = stored("hourly");
    assertThat(retrying.nextOccurrence()).isEqualTo(Instant.parse("2026-03-01T11:00:00Z"));
    assertThat(retrying.dueAt()).isEqualTo(Instant.parse("2026-03-01T11:00:01Z"));
    assertThat(retrying.attempts()).isEqualTo(1);
    assertThat(retrying.history().lastRun().status()).isEqualTo(LastRun.Status.RETRYING);
    assertThat(retrying.history().lastRun().message()).contains("Pending");

    clock.advance(Duration.ofSeconds(1));
    scheduler.runDue();
    assertThat(stored("hourly").dueAt()).as("backing off").isEqualTo(Instant.parse("2026-03-01T11:00:03Z"));
    clock.advance(Duration.ofSeconds(2));
    scheduler.runDue();

    assertThat(target.refusals).hasValue(2);
    assertThat(target.fires).hasSize(1);
    assertThat(target.fires.getFirst().time()).isEqualTo("2026-03-01T11:00:00Z");
    var done = stored("hourly");
    assertThat(done.history().lastRun().status()).isEqualTo(LastRun.Status.INVOKED);
    assertThat(done.history().lastRun().attempt()).isEqualTo(3);
    assertThat(done.history().invocations()).isEqualTo(1);
    assertThat(done.history().failures()).isZero();
    assertThat(done.nextOccurrence()).isEqualTo(Instant.parse("2026-03-01T12:00:00Z"));
    assertThat(done.attempts()).isZero();
  }

  @Test
  void retriesStopWhenTheNextOccurrenceIsDue() {
    create("minutely", "rate(1 minute)");
    target.refuseNext = Integer.MAX_VALUE;
    for (int i = 0; i < 80; i++) {
      scheduler.runDue();
      clock.advance(Duration.ofSeconds(1));
    }
    var schedule = stored("minutely");
    assertThat(schedule.history().failures()).as("the first occurrence was given up for the second").isEqualTo(1);
    assertThat(schedule.history().lastRun().scheduledTime()).isEqualTo(T0.plusSeconds(60));
    assertThat(schedule.nextOccurrence()).isEqualTo(T0.plusSeconds(60));
    assertThat(target.fires).isEmpty();
    assertThat(Scheduler.retryDelay(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(Scheduler.retryDelay(4)).isEqualTo(Duration.ofSeconds(8));
    assertThat(Scheduler.retryDelay(7)).isEqualTo(Duration.ofSeconds(60));
    assertThat(Scheduler.retryDelay(100)).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void afterDowntimeOnlyTheLatestMissedOccurrenceRunsAndTheOthersAreCounted() {
    create("hourly", "rate(1 hour)");
    scheduler.runDue();
    assertThat(target.fires).hasSize(1);
    clock.advance(Duration.ofMinutes(5 * 60 + 30));
    restart();
    scheduler.runDue();
    assertThat(times(target.fires)).containsExactly("2026-03-01T10:00:00Z", "2026-03-01T15:00:00Z");
    var schedule = stored("hourly");
    assertThat(schedule.history().missed()).as("11:00 to 14:00 skipped").isEqualTo(4);
    assertThat(schedule.history().invocations()).isEqualTo(2);
    assertThat(schedule.history().lastRun().catchUp()).isTrue();
    assertThat(schedule.nextOccurrence()).isEqualTo(Instant.parse("2026-03-01T16:00:00Z"));
    scheduler.runDue();
    assertThat(target.fires).hasSize(2);
  }

  @Test
  void aLatestMissedOccurrenceOlderThanTheGraceIsSkippedToo() {
    create("every2days", "rate(2 days)");
    scheduler.runDue();
    clock.set(T0.plus(Duration.ofHours(4 * 24 + 30)));
    restart();
    scheduler.runDue();
    assertThat(times(target.fires)).as("only the run before the downtime").containsExactly("2026-03-01T10:00:00Z");
    var schedule = stored("every2days");
    assertThat(schedule.history().missed()).isEqualTo(2);
    assertThat(schedule.nextOccurrence()).isEqualTo(T0.plus(Duration.ofDays(6)));
  }

  @Test
  void aMissedOneTimeScheduleRunsOnceAtStartUpWithinADay() {
    create("at1010", "at(2026-03-01T10:10:00)");
    create("at1020", "at(2026-03-01T10:20:00)");
    clock.set(Instant.parse("2026-03-02T10:15:00Z"));
    restart();
    scheduler.runDue();
    scheduler.runDue();
    assertThat(times(target.fires)).as("the one 23 h 55 min late runs; the one 24 h 5 min late does not")
        .containsExactly("2026-03-01T10:20:00Z");
    var ran = stored("at1020");
    assertThat(ran.history().lastRun().catchUp()).isTrue();
    assertThat(ran.nextOccurrence()).isNull();
    var skipped = stored("at1010");
    assertThat(skipped.history().missed()).isEqualTo(1);
    assertThat(skipped.history().invocations()).isZero();
    assertThat(skipped.nextOccurrence()).isNull();
  }

  @Test
  void aCrashAfterTheTargetAcceptedRunsTheOccurrenceAgainNeverZeroTimes() {
    create("nightly", "cron(0 12 * * ? *)");
    target.whileAccepting = f -> {
      throw new SimulatedCrash();
    };
    clock.set(Instant.parse("2026-03-01T12:00:00Z"));
    assertThatThrownBy(() -> scheduler.runDue()).isInstanceOf(SimulatedCrash.class);
    target.whileAccepting = f -> {};
    clock.advance(Duration.ofSeconds(5));
    restart();
    scheduler.runDue();
    assertThat(target.fires).hasSize(2);
    assertThat(times(target.fires)).containsOnly("2026-03-01T12:00:00Z");
    assertThat(target.fires.get(0).id()).as("the same execution id: the function can tell it is a repeat")
        .isEqualTo(target.fires.get(1).id());
    var schedule = stored("nightly");
    assertThat(schedule.history().invocations()).isEqualTo(1);
    assertThat(schedule.nextOccurrence()).isEqualTo(Instant.parse("2026-03-02T12:00:00Z"));
  }

  @Test
  void whileRunningALongStallCountsAsMissedToo() {
    create("minutely", "rate(1 minute)");
    scheduler.runDue();
    clock.advance(Duration.ofMinutes(10));
    scheduler.runDue();
    assertThat(times(target.fires)).as("one catch-up for the latest, not nine in a row")
        .containsExactly("2026-03-01T10:00:00Z", "2026-03-01T10:10:00Z");
    assertThat(stored("minutely").history().missed()).isEqualTo(9);
  }

  @Test
  void aLateButNotMissedOccurrenceStillRuns() {
    create("minutely", "rate(1 minute)");
    scheduler.runDue();
    clock.advance(Duration.ofSeconds(100));
    scheduler.runDue();
    assertThat(times(target.fires)).containsExactly("2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z");
    assertThat(stored("minutely").history().missed()).isZero();
  }

  @Test
  void anUpdateDuringARunKeepsTheNewTimingAndTheRunIsRecorded() {
    create("changing", "rate(1 hour)");
    target.whileAccepting = f -> schedules.update(ACCOUNT, new ScheduleRequest("changing", "rate(2 hours)", null,
        null, null, null, null, null, "fn", null, null));
    scheduler.runDue();
    var schedule = stored("changing");
    assertThat(schedule.definition().expression()).isEqualTo("rate(2 hours)");
    assertThat(schedule.nextOccurrence()).as("the new rate, counted from its change").isEqualTo(T0);
    assertThat(schedule.history().invocations()).isEqualTo(1);
    assertThat(target.fires).hasSize(1);
  }

  @Test
  void missedOccurrencesAreCountedUpToALimitAndTheLatestIsStillFound() {
    var definition = new ScheduleDefinition(ACCOUNT, "busy", "cron(* * * * ? *)", "UTC", null, null,
        ScheduleState.ENABLED, FlexibleTimeWindow.OFF, "fn", null, null, null, T0, T0, T0);
    var times = ScheduleTimes.of(definition);
    Instant now = T0.plus(Duration.ofDays(30)).plusSeconds(30);
    var missed = Scheduler.missed(times, T0, now, Duration.ZERO);
    assertThat(missed.atLeast()).isTrue();
    assertThat(missed.count()).isGreaterThanOrEqualTo(Scheduler.MAX_COUNTED_MISSES);
    assertThat(missed.latest()).isEqualTo(T0.plus(Duration.ofDays(30)));
    assertThat(missed.next()).isEqualTo(T0.plus(Duration.ofDays(30)).plusSeconds(60));

    var few = Scheduler.missed(times, T0, T0.plusSeconds(150), Duration.ZERO);
    assertThat(few).isEqualTo(new Scheduler.Missed(T0.plusSeconds(120), 3, false, T0.plusSeconds(180)));
  }

  @Test
  void daylightSavingIsFollowedEndToEnd() {
    clock.set(Instant.parse("2026-03-06T00:00:00Z"));
    create(new ScheduleRequest("early", "cron(30 2 * * ? *)", "America/New_York", null, null, null, null, null, "fn",
        null, null));
    var runs = new java.util.ArrayList<String>();
    Instant end = Instant.parse("2026-03-11T00:00:00Z");
    while (clock.instant().isBefore(end)) {
      var next = scheduler.runDue();
      clock.set(next.filter(end::isAfter).orElse(end));
    }
    target.fires.forEach(f -> runs.add(LocalDateTime.ofInstant(Instant.parse(f.time()), ZoneId.of("America/New_York"))
        .format(DateTimeFormatter.ISO_LOCAL_DATE_TIME)));
    assertThat(runs).as("no 02:30 on 8 March, when New York skips from 02:00 to 03:00")
        .containsExactly("2026-03-06T02:30:00", "2026-03-07T02:30:00", "2026-03-09T02:30:00", "2026-03-10T02:30:00");
  }

  @Test
  void theLoopRunsOnItsOwnAndWakesUpForNewSchedules() {
    scheduler.close();
    scheduler = new Scheduler(store, target, Clock.systemUTC(), Region.DEFAULT);
    var liveSchedules = new Schedules(store, control, Clock.systemUTC(), scheduler::wake);
    scheduler.start();
    // The loop found nothing to do and sleeps up to 30 s; the new schedule must wake it.
    Instant soon = Instant.now().plusSeconds(2);
    String at = LocalDateTime.ofInstant(soon, ZoneOffset.UTC).withNano(0).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
    liveSchedules.create(ACCOUNT, new ScheduleRequest("live", "at(" + at + ")", null, null, null, null, null, null,
        "fn", "{\"live\":true}", null));
    await("the one-time schedule ran").atMost(Duration.ofSeconds(15)).until(() -> target.fires.size() == 1);
    assertThat(target.fires.getFirst().payload()).isEqualTo("{\"live\":true}");
    assertThat(Instant.now()).isAfterOrEqualTo(LocalDateTime.parse(at).toInstant(ZoneOffset.UTC));
    long started = System.nanoTime();
    scheduler.close();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
  }

  private static byte[] zip() {
    try {
      var bytes = new ByteArrayOutputStream();
      try (var zip = new ZipOutputStream(bytes)) {
        zip.putNextEntry(new ZipEntry("index.js"));
        zip.write("exports.handler = async () => 'ok';\n".getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
