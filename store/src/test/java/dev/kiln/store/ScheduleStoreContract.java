package dev.kiln.store;

import static dev.kiln.store.TestRecords.function;
import static dev.kiln.store.TestRecords.randomAccount;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.schedules.FlexibleTimeWindow;
import dev.kiln.core.schedules.LastRun;
import dev.kiln.core.schedules.Schedule;
import dev.kiln.core.schedules.ScheduleDefinition;
import dev.kiln.core.schedules.ScheduleHistory;
import dev.kiln.core.schedules.ScheduleState;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every store's {@link ScheduleStore} must do. A subclass names the database; each test works
 * in its own random account, so tests may share it.
 */
public abstract class ScheduleStoreContract {
  private static final Instant CREATED = Instant.parse("2026-01-02T03:04:05.123Z");
  /** Far in the future so that schedules of other tests sharing the database are never due with ours. */
  private static final Instant BASE = Instant.parse("2190-06-01T00:00:00Z");

  protected MetadataStore store;
  protected String account;

  protected abstract StoreConfig config();

  @BeforeEach
  void openStore() {
    store = Stores.open(config());
    account = randomAccount();
    store.write(tx -> {
      tx.insertFunction(function(account, "fn"));
      tx.insertFunction(function(account, "other-fn"));
      return null;
    });
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  private ScheduleDefinition definition(String name, ScheduleState state) {
    return new ScheduleDefinition(account, name, "cron(0 12 * * ? *)", "Europe/Berlin", CREATED.plusSeconds(60),
        CREATED.plusSeconds(86_400 * 400L), state, new FlexibleTimeWindow(FlexibleTimeWindow.Mode.FLEXIBLE, 15),
        "fn", "live", "{\"hello\":\"<aws.scheduler.scheduled-time>\"}", "every day at noon", CREATED, CREATED,
        CREATED);
  }

  private Schedule schedule(String name, Instant next) {
    var history = new ScheduleHistory(new LastRun(CREATED, CREATED.plusMillis(1500), LastRun.Status.INVOKED,
        "req-1", 2, true, null), 3, 1, 4);
    return new Schedule(definition(name, ScheduleState.ENABLED), next, next == null ? null : next.plusSeconds(7), 0,
        history, 0);
  }

  private void insert(Schedule schedule) {
    store.write(tx -> {
      tx.schedules().insert(schedule);
      return null;
    });
  }

  private Optional<Schedule> read(String name) {
    return store.read(tx -> tx.schedules().schedule(account, name));
  }

  private List<Schedule> ours(List<Schedule> schedules) {
    return schedules.stream().filter(s -> s.definition().account().equals(account)).toList();
  }

  private static List<String> names(List<Schedule> schedules) {
    return schedules.stream().map(s -> s.definition().name()).toList();
  }

  @Test
  void aStoredScheduleComesBackExactly() {
    var schedule = schedule("nightly", BASE);
    insert(schedule);
    assertThat(read("nightly")).contains(schedule);
    assertThat(read("missing")).isEmpty();
    assertThat(store.read((StoreTransaction tx) -> tx.schedules().schedule(randomAccount(), "nightly"))).isEmpty();
  }

  @Test
  void aScheduleWithNothingToRunKeepsItsNulls() {
    var finished = new Schedule(definition("done", ScheduleState.DISABLED), null, null, 0, ScheduleHistory.NONE, 0);
    insert(finished);
    assertThat(read("done")).contains(finished);
  }

  @Test
  void namesAreUniquePerAccount() {
    insert(schedule("nightly", BASE));
    assertThatThrownBy(() -> insert(schedule("nightly", BASE.plusSeconds(1)))).isInstanceOf(DuplicateKeyException.class);
    assertThat(read("nightly").orElseThrow().nextOccurrence()).isEqualTo(BASE);

    var elsewhere = randomAccount();
    store.write(tx -> {
      tx.insertFunction(function(elsewhere, "fn"));
      var theirs = schedule("nightly", BASE);
      var def = theirs.definition();
      tx.schedules().insert(new Schedule(new ScheduleDefinition(elsewhere, def.name(), def.expression(), def.timezone(),
          def.startDate(), def.endDate(), def.state(), def.flexibleTimeWindow(), def.functionName(), def.qualifier(),
          def.input(), def.description(), def.createdAt(), def.modifiedAt(), def.timingSince()), theirs.nextOccurrence(),
          theirs.dueAt(), 0, ScheduleHistory.NONE, 0));
      return null;
    });
    assertThat(store.read((StoreTransaction tx) -> tx.schedules().schedule(elsewhere, "nightly"))).isPresent();
  }

  @Test
  void aScheduleNeedsItsFunction() {
    var schedule = schedule("orphan", BASE);
    var def = schedule.definition();
    var orphan = new Schedule(new ScheduleDefinition(account, "orphan", def.expression(), def.timezone(), null, null,
        def.state(), def.flexibleTimeWindow(), "no-such-function", null, null, null, CREATED, CREATED, CREATED),
        BASE, BASE, 0, ScheduleHistory.NONE, 0);
    assertThatThrownBy(() -> insert(orphan)).isInstanceOf(IllegalStateException.class);
    assertThat(read("orphan")).isEmpty();
  }

  @Test
  void deletingTheFunctionDeletesItsSchedules() {
    insert(schedule("a", BASE));
    insert(schedule("b", BASE));
    store.write(tx -> {
      tx.deleteFunction(account, "fn");
      return null;
    });
    assertThat(read("a")).isEmpty();
    assertThat(read("b")).isEmpty();
    assertThat(ours(store.read(tx -> tx.schedules().due(BASE.plusSeconds(3600), 1000)))).isEmpty();
  }

  @Test
  void listsByNameWithPagingPrefixAndState() {
    for (String name : List.of("report.daily", "report_weekly", "reportXmonthly", "backup", "cleanup")) {
      insert(schedule(name, BASE));
    }
    store.write(tx -> {
      var def = definition("paused", ScheduleState.DISABLED);
      tx.schedules().insert(new Schedule(def, null, null, 0, ScheduleHistory.NONE, 0));
      return null;
    });

    assertThat(names(store.read(tx -> tx.schedules().schedules(account, null, null, null, 100))))
        .containsExactly("backup", "cleanup", "paused", "report.daily", "reportXmonthly", "report_weekly");
    assertThat(names(store.read(tx -> tx.schedules().schedules(account, null, null, null, 2))))
        .containsExactly("backup", "cleanup");
    assertThat(names(store.read(tx -> tx.schedules().schedules(account, null, null, "cleanup", 2))))
        .containsExactly("paused", "report.daily");
    assertThat(names(store.read(tx -> tx.schedules().schedules(account, "report", null, "report.daily", 100))))
        .containsExactly("reportXmonthly", "report_weekly");
    // '_' and '.' are literal in a prefix, not patterns.
    assertThat(names(store.read(tx -> tx.schedules().schedules(account, "report_", null, null, 100))))
        .containsExactly("report_weekly");
    assertThat(names(store.read(tx -> tx.schedules().schedules(account, "report.", null, null, 100))))
        .containsExactly("report.daily");
    assertThat(names(store.read(tx -> tx.schedules().schedules(account, null, ScheduleState.DISABLED, null, 100))))
        .containsExactly("paused");
    assertThat(store.read((StoreTransaction tx) -> tx.schedules().schedules(account, null, ScheduleState.ENABLED, null, 100))).hasSize(5);
    assertThat(store.read((StoreTransaction tx) -> tx.schedules().schedules(randomAccount(), null, null, null, 100))).isEmpty();
    assertThatThrownBy(() -> store.read(tx -> tx.schedules().schedules(account, null, null, null, 0)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aNewDefinitionWithTheSameTimingKeepsWhatTheScheduleWaitsFor() {
    var original = schedule("nightly", BASE);
    insert(original);
    store.write(tx -> tx.schedules().advance(account, "nightly", 0, BASE, BASE, BASE.plusSeconds(30), 2,
        original.history()));
    var described = withDescription(original.definition(), "changed", "other-fn");
    store.write(tx -> {
      tx.schedules().updateDefinition(described);
      return null;
    });
    var stored = read("nightly").orElseThrow();
    assertThat(stored.definition()).isEqualTo(described);
    assertThat(stored.nextOccurrence()).isEqualTo(BASE);
    assertThat(stored.dueAt()).isEqualTo(BASE.plusSeconds(30));
    assertThat(stored.attempts()).isEqualTo(2);
    assertThat(stored.timingRevision()).isZero();
    assertThat(stored.history()).isEqualTo(original.history());
  }

  @Test
  void aNewTimingReplacesWhatTheScheduleWaitsForAndKeepsTheHistory() {
    var original = schedule("nightly", BASE);
    insert(original);
    store.write(tx -> tx.schedules().advance(account, "nightly", 0, BASE, BASE, BASE.plusSeconds(30), 2,
        original.history()));
    var disabled = definition("nightly", ScheduleState.DISABLED);
    store.write(tx -> {
      tx.schedules().reschedule(disabled, null, null);
      return null;
    });
    var stored = read("nightly").orElseThrow();
    assertThat(stored).isEqualTo(new Schedule(disabled, null, null, 0, original.history(), 1));
    assertThat(names(store.read(tx -> tx.schedules().schedules(account, null, ScheduleState.DISABLED, null, 10))))
        .containsExactly("nightly");

    store.write(tx -> {
      tx.schedules().reschedule(definition("nightly", ScheduleState.ENABLED), BASE.plusSeconds(60), BASE.plusSeconds(61));
      return null;
    });
    assertThat(read("nightly").orElseThrow().timingRevision()).isEqualTo(2);
  }

  @Test
  void updatingAMissingScheduleIsACallerBug() {
    assertThatThrownBy(() -> store.write(tx -> {
      tx.schedules().updateDefinition(definition("ghost", ScheduleState.ENABLED));
      return null;
    })).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> store.write(tx -> {
      tx.schedules().reschedule(definition("ghost", ScheduleState.ENABLED), BASE, BASE);
      return null;
    })).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void deleteSaysWhetherThereWasOne() {
    insert(schedule("nightly", BASE));
    assertThat(store.<Boolean>write(tx -> tx.schedules().delete(account, "nightly"))).isTrue();
    assertThat(store.<Boolean>write(tx -> tx.schedules().delete(account, "nightly"))).isFalse();
    assertThat(read("nightly")).isEmpty();
  }

  @Test
  void dueSchedulesComeEarliestFirst() {
    insert(schedule("late", BASE.plusSeconds(120)));
    insert(schedule("early", BASE.plusSeconds(10)));
    insert(schedule("middle", BASE.plusSeconds(60)));
    insert(schedule("never", null));
    // dueAt is nextOccurrence + 7 s in these records.
    assertThat(names(ours(store.read(tx -> tx.schedules().due(BASE.plusSeconds(66), 100)))))
        .containsExactly("early");
    assertThat(names(ours(store.read(tx -> tx.schedules().due(BASE.plusSeconds(67), 100)))))
        .containsExactly("early", "middle");
    assertThat(names(ours(store.read(tx -> tx.schedules().due(BASE.plusSeconds(3600), 100)))))
        .containsExactly("early", "middle", "late");
    var nextDue = store.read(tx -> tx.schedules().nextDue()).orElseThrow();
    assertThat(nextDue).isBeforeOrEqualTo(BASE.plusSeconds(17));
  }

  @Test
  void advanceMovesOnOnlyFromTheOccurrenceItRanUnderTheTimingItRanBy() {
    var original = schedule("nightly", BASE);
    insert(original);
    var history = original.history().invoked(new LastRun(BASE, BASE.plusSeconds(7), LastRun.Status.INVOKED, "req-2",
        1, false, null));

    assertThat(store.<Boolean>write(tx -> tx.schedules().advance(account, "nightly", 0, BASE.plusSeconds(1),
        BASE.plusSeconds(86_400), BASE.plusSeconds(86_401), 0, history))).as("another occurrence").isFalse();
    assertThat(store.<Boolean>write(tx -> tx.schedules().advance(account, "nightly", 1, BASE, BASE.plusSeconds(86_400),
        BASE.plusSeconds(86_401), 0, history))).as("another timing").isFalse();
    assertThat(read("nightly")).contains(original);

    assertThat(store.<Boolean>write(tx -> tx.schedules().advance(account, "nightly", 0, BASE, BASE.plusSeconds(86_400),
        BASE.plusSeconds(86_401), 0, history))).isTrue();
    var advanced = read("nightly").orElseThrow();
    assertThat(advanced.nextOccurrence()).isEqualTo(BASE.plusSeconds(86_400));
    assertThat(advanced.dueAt()).isEqualTo(BASE.plusSeconds(86_401));
    assertThat(advanced.history()).isEqualTo(history);
    assertThat(advanced.timingRevision()).isZero();

    assertThat(store.<Boolean>write(tx -> tx.schedules().advance(account, "nightly", 0, BASE.plusSeconds(86_400), null, null, 0,
        history))).as("the last occurrence").isTrue();
    assertThat(read("nightly").orElseThrow().nextOccurrence()).isNull();
    assertThat(store.<Boolean>write(tx -> tx.schedules().advance(account, "missing", 0, BASE, null, null, 0, history))).isFalse();
  }

  @Test
  void advanceAfterARescheduleIsRefusedButTheHistoryCanStillBeRecorded() {
    insert(schedule("nightly", BASE));
    store.write(tx -> {
      tx.schedules().reschedule(definition("nightly", ScheduleState.ENABLED), BASE.plusSeconds(300), BASE.plusSeconds(300));
      return null;
    });
    var history = ScheduleHistory.NONE.invoked(new LastRun(BASE, BASE, LastRun.Status.INVOKED, "req-3", 1, false, null));
    assertThat(store.<Boolean>write(tx -> tx.schedules().advance(account, "nightly", 0, BASE, BASE.plusSeconds(60),
        BASE.plusSeconds(60), 0, history))).isFalse();
    store.write(tx -> {
      tx.schedules().recordHistory(account, "nightly", history);
      return null;
    });
    var stored = read("nightly").orElseThrow();
    assertThat(stored.history()).isEqualTo(history);
    assertThat(stored.nextOccurrence()).as("the new timing stands").isEqualTo(BASE.plusSeconds(300));
  }

  @Test
  void aReadTransactionCannotChangeSchedules() {
    assertThatThrownBy(() -> store.read(tx -> {
      tx.schedules().insert(schedule("nightly", BASE));
      return null;
    })).isInstanceOf(IllegalStateException.class).hasMessageContaining("read() transaction");
  }

  private static ScheduleDefinition withDescription(ScheduleDefinition d, String description, String functionName) {
    return new ScheduleDefinition(d.account(), d.name(), d.expression(), d.timezone(), d.startDate(), d.endDate(),
        d.state(), d.flexibleTimeWindow(), functionName, d.qualifier(), d.input(), description, d.createdAt(),
        d.modifiedAt().plusSeconds(5), d.timingSince());
  }
}
