package dev.kiln.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.core.Region;
import dev.kiln.core.schedules.FlexibleTimeWindow;
import dev.kiln.core.schedules.Schedule;
import dev.kiln.core.schedules.ScheduleState;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreConfig;
import dev.kiln.store.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchedulesTest {
  private static final String ACCOUNT = "123456789012";
  private static final String ROLE = "arn:aws:iam::123456789012:role/test";
  private static final Instant START = Instant.parse("2026-03-01T10:07:30.250Z");

  @TempDir Path dir;
  private MetadataStore store;
  private ControlPlane control;
  private Schedules schedules;
  private final TestClock clock = new TestClock(START);
  private final AtomicInteger changes = new AtomicInteger();

  /** A clock the test moves by hand. */
  static final class TestClock extends Clock {
    private volatile Instant now;

    TestClock(Instant now) {
      this.now = now;
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

  @BeforeEach
  void open() {
    store = Stores.open(new StoreConfig.Sqlite(dir.resolve("kiln.db")));
    control = new ControlPlane(store, new CodeStore(dir.resolve("code")), Region.DEFAULT, clock, v -> {});
    schedules = new Schedules(store, control, clock, changes::incrementAndGet);
    for (String name : new String[] {"fn", "other"}) {
      control.createFunction(ACCOUNT, new CreateFunctionRequest(name, new ConfigurationChange("nodejs22.x",
          "index.handler", ROLE, null, null, null, null, null, null), ControlPlaneTest.zip(name), null, false));
      control.markReady(ACCOUNT, name);
    }
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static ScheduleRequest request(String name, String expression) {
    return new ScheduleRequest(name, expression, null, null, null, null, null, null, "fn", null, null);
  }

  private static ScheduleRequest request(String name, String expression, String timezone, String state,
      String target, String input) {
    return new ScheduleRequest(name, expression, timezone, null, null, state, null, null, target, input, null);
  }

  @Test
  void aNewScheduleWaitsForItsFirstOccurrence() {
    var created = schedules.create(ACCOUNT, request("noon", "cron(0 12 * * ? *)", "Europe/Berlin", null,
        ACCOUNT + ":function:fn", "{\"x\":1}"));
    assertThat(created.nextOccurrence()).isEqualTo(Instant.parse("2026-03-01T11:00:00Z"));
    assertThat(created.dueAt()).isEqualTo(created.nextOccurrence());
    assertThat(created.definition().createdAt()).isEqualTo(Instant.parse("2026-03-01T10:07:30.250Z"));
    assertThat(created.definition().functionName()).isEqualTo("fn");
    assertThat(created.definition().qualifier()).isNull();
    assertThat(schedules.get(ACCOUNT, "noon")).isEqualTo(created);
    assertThat(schedules.arn(ACCOUNT, "noon")).isEqualTo("arn:aws:scheduler:us-east-1:123456789012:schedule/default/noon");
    assertThat(schedules.targetArn(created.definition())).isEqualTo("arn:aws:lambda:us-east-1:123456789012:function:fn");
    assertThat(changes).hasValue(1);
  }

  @Test
  void aRateWithoutStartDateRunsRightAway() {
    var created = schedules.create(ACCOUNT, request("often", "rate(5 minutes)"));
    assertThat(created.nextOccurrence()).isEqualTo(START);
  }

  @Test
  void aDisabledScheduleWaitsForNothing() {
    var created = schedules.create(ACCOUNT, request("off", "rate(5 minutes)", null, "DISABLED", "fn", null));
    assertThat(created.definition().state()).isEqualTo(ScheduleState.DISABLED);
    assertThat(created.nextOccurrence()).isNull();
    assertThat(created.dueAt()).isNull();
  }

  @Test
  void aFlexibleWindowDelaysTheRunWithinTheWindow() {
    var created = schedules.create(ACCOUNT, new ScheduleRequest("flex", "cron(0 12 * * ? *)", null, null, null, null,
        "FLEXIBLE", 30, "fn", null, null));
    assertThat(created.dueAt()).isBetween(created.nextOccurrence(), created.nextOccurrence().plus(Duration.ofMinutes(30)));
    assertThat(created.definition().flexibleTimeWindow())
        .isEqualTo(new FlexibleTimeWindow(FlexibleTimeWindow.Mode.FLEXIBLE, 30));
  }

  @Test
  void targetsMayNameAVersionOrAlias() {
    var version = control.publishVersion(ACCOUNT, FunctionRef.parse("fn", null), null, null, null);
    var created = schedules.create(ACCOUNT, request("pinned", "rate(1 hour)", null, null,
        "arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:fn:" + version.version(), null));
    assertThat(created.definition().qualifier()).isEqualTo(version.version());
    assertThat(schedules.targetArn(created.definition()))
        .isEqualTo("arn:aws:lambda:us-east-1:123456789012:function:fn:" + version.version());
    expect(() -> schedules.create(ACCOUNT, request("nope", "rate(1 hour)", null, null, "fn:live", null)),
        ErrorCode.ResourceNotFoundException, "Function not found");
  }

  @Test
  void badRequestsAreRefusedWithWhatToFix() {
    expect(() -> schedules.create(ACCOUNT, request("bad name", "rate(1 hour)")), ErrorCode.InvalidParameterValueException,
        "at 'name'");
    expect(() -> schedules.create(ACCOUNT, request("x".repeat(65), "rate(1 hour)")),
        ErrorCode.InvalidParameterValueException, "at 'name'");
    expect(() -> schedules.create(ACCOUNT, request("a", "cron(0 12 * * * *)")), ErrorCode.InvalidParameterValueException,
        "put '?' in one of them");
    expect(() -> schedules.create(ACCOUNT, request("a", "rate(1 hour)", "Mars/Olympus", null, "fn", null)),
        ErrorCode.InvalidParameterValueException, "is not a time zone");
    expect(() -> schedules.create(ACCOUNT, request("a", "rate(1 hour)", null, "PAUSED", "fn", null)),
        ErrorCode.InvalidParameterValueException, "State must be ENABLED or DISABLED");
    expect(() -> schedules.create(ACCOUNT, new ScheduleRequest("a", "rate(1 hour)", null, null, null, null, "FLEXIBLE",
        null, "fn", null, null)), ErrorCode.InvalidParameterValueException, "MaximumWindowInMinutes must be from 1 to 1440");
    expect(() -> schedules.create(ACCOUNT, new ScheduleRequest("a", "rate(1 hour)", null, null, null, null, "FLEXIBLE",
        1441, "fn", null, null)), ErrorCode.InvalidParameterValueException, "MaximumWindowInMinutes must be from 1 to 1440");
    expect(() -> schedules.create(ACCOUNT, new ScheduleRequest("a", "rate(1 hour)", null, null, null, null, "OFF",
        10, "fn", null, null)), ErrorCode.InvalidParameterValueException, "only allowed with Mode FLEXIBLE");
    expect(() -> schedules.create(ACCOUNT, new ScheduleRequest("a", "rate(1 hour)", null, null, null, null, "SOMETIMES",
        null, "fn", null, null)), ErrorCode.InvalidParameterValueException, "Mode must be OFF or FLEXIBLE");
    expect(() -> schedules.create(ACCOUNT, request("a", "rate(1 hour)", null, null, null, null)),
        ErrorCode.InvalidParameterValueException, "Target.Arn must name the function");
    expect(() -> schedules.create(ACCOUNT, request("a", "rate(1 hour)", null, null, "fn::x", null)),
        ErrorCode.InvalidParameterValueException, "does not name a function");
    expect(() -> schedules.create(ACCOUNT, request("a", "rate(1 hour)", null, null, "210987654321:function:fn", null)),
        ErrorCode.AccessDeniedException, "another account");
    expect(() -> schedules.create(ACCOUNT, request("a", "rate(1 hour)", null, null, "ghost", null)),
        ErrorCode.ResourceNotFoundException, "Function not found");
    expect(() -> schedules.create(ACCOUNT, request("a", "rate(1 hour)", null, null, "fn", "{not json")),
        ErrorCode.InvalidParameterValueException, "Target.Input must be a JSON document");
    expect(() -> schedules.create(ACCOUNT, request("a", "rate(1 hour)", null, null, "fn", "{} {}")),
        ErrorCode.InvalidParameterValueException, "one JSON document");
    expect(() -> schedules.create(ACCOUNT, request("a", "rate(1 hour)", null, null, "fn", "")),
        ErrorCode.InvalidParameterValueException, "must not be empty");
    expect(() -> schedules.create(ACCOUNT, request("a", "rate(1 hour)", null, null, "fn",
        "\"" + "x".repeat(Schedules.MAX_INPUT_BYTES) + "\"")), ErrorCode.InvalidParameterValueException, "at most");
    expect(() -> schedules.create(ACCOUNT, new ScheduleRequest("a", "rate(1 hour)", null, START.plusSeconds(60),
        START, null, null, null, "fn", null, null)), ErrorCode.InvalidParameterValueException, "must be after StartDate");
    expect(() -> schedules.create(ACCOUNT, new ScheduleRequest("a", "rate(1 hour)", null, null, null, null, null, null,
        "fn", null, "d".repeat(513))), ErrorCode.InvalidParameterValueException, "Description");
    assertThat(schedules.list(ACCOUNT, null, null, null, null).items()).isEmpty();
    assertThat(changes).hasValue(0);
  }

  @Test
  void contextAttributesMayStandInForValuesInTheInput() {
    var created = schedules.create(ACCOUNT, request("ctx", "rate(1 hour)", null, null, "fn",
        "{\"attempt\": <aws.scheduler.attempt-number>, \"at\": \"<aws.scheduler.scheduled-time>\"}"));
    assertThat(created.definition().input()).contains("<aws.scheduler.attempt-number>");
  }

  @Test
  void aScheduleThatWouldNeverRunIsRefused() {
    expect(() -> schedules.create(ACCOUNT, request("past", "at(2026-03-01T10:00:00)")),
        ErrorCode.InvalidParameterValueException, "has passed; choose a time in the future");
    expect(() -> schedules.create(ACCOUNT, request("old", "cron(0 12 * * ? 2020)")),
        ErrorCode.InvalidParameterValueException, "has no occurrence in the future");
    expect(() -> schedules.create(ACCOUNT, new ScheduleRequest("ended", "cron(0 12 * * ? *)", null, null,
        START.plusSeconds(60), null, null, null, "fn", null, null)), ErrorCode.InvalidParameterValueException,
        "between now and EndDate");
  }

  @Test
  void namesAreUniqueInTheAccount() {
    schedules.create(ACCOUNT, request("dup", "rate(1 hour)"));
    expect(() -> schedules.create(ACCOUNT, request("dup", "rate(2 hours)")), ErrorCode.ResourceConflictException,
        "already exists");
  }

  @Test
  void getAndDeleteOfAMissingScheduleAreNotFound() {
    expect(() -> schedules.get(ACCOUNT, "ghost"), ErrorCode.ResourceNotFoundException, "Schedule not found");
    expect(() -> schedules.delete(ACCOUNT, "ghost"), ErrorCode.ResourceNotFoundException, "Schedule not found");
    expect(() -> schedules.update(ACCOUNT, request("ghost", "rate(1 hour)")), ErrorCode.ResourceNotFoundException,
        "Schedule not found");
    schedules.create(ACCOUNT, request("real", "rate(1 hour)"));
    schedules.delete(ACCOUNT, "real");
    expect(() -> schedules.get(ACCOUNT, "real"), ErrorCode.ResourceNotFoundException, "Schedule not found");
  }

  @Test
  void listPagesByNameAndFilters() {
    for (String name : new String[] {"b", "a", "c", "report-1", "report-2"}) {
      schedules.create(ACCOUNT, request(name, "rate(1 hour)"));
    }
    schedules.create(ACCOUNT, request("z-off", "rate(1 hour)", null, "DISABLED", "fn", null));
    var first = schedules.list(ACCOUNT, null, null, null, 2);
    assertThat(first.items()).extracting(s -> s.definition().name()).containsExactly("a", "b");
    assertThat(first.nextMarker()).isEqualTo("b");
    var second = schedules.list(ACCOUNT, null, null, first.nextMarker(), 10);
    assertThat(second.items()).extracting(s -> s.definition().name())
        .containsExactly("c", "report-1", "report-2", "z-off");
    assertThat(second.nextMarker()).isNull();
    assertThat(schedules.list(ACCOUNT, "report", null, null, null).items()).hasSize(2);
    assertThat(schedules.list(ACCOUNT, null, "DISABLED", null, null).items()).extracting(s -> s.definition().name())
        .containsExactly("z-off");
    assertThat(schedules.list("999999999999", null, null, null, null).items()).isEmpty();
    expect(() -> schedules.list(ACCOUNT, null, null, null, 0), ErrorCode.InvalidParameterValueException, "MaxResults");
    expect(() -> schedules.list(ACCOUNT, null, null, null, 101), ErrorCode.InvalidParameterValueException, "MaxResults");
    expect(() -> schedules.list(ACCOUNT, null, "ON", null, null), ErrorCode.InvalidParameterValueException, "State");
  }

  @Test
  void anUpdateThatKeepsTheTimingKeepsTheNextOccurrence() {
    var created = schedules.create(ACCOUNT, request("daily", "rate(1 day)"));
    clock.advance(Duration.ofHours(3));
    var updated = schedules.update(ACCOUNT, new ScheduleRequest("daily", "rate(1 day)", null, null, null, null, null,
        null, "other", "{\"v\":2}", "now with input"));
    assertThat(updated.nextOccurrence()).isEqualTo(created.nextOccurrence());
    assertThat(updated.timingRevision()).isEqualTo(created.timingRevision());
    assertThat(updated.definition().functionName()).isEqualTo("other");
    assertThat(updated.definition().createdAt()).isEqualTo(created.definition().createdAt());
    assertThat(updated.definition().modifiedAt()).isEqualTo(START.plus(Duration.ofHours(3)));
    assertThat(schedules.get(ACCOUNT, "daily")).isEqualTo(updated);
  }

  @Test
  void disablingAndEnablingAgainKeepsARateInStep() {
    schedules.create(ACCOUNT, request("hourly", "rate(1 hour)"));
    clock.advance(Duration.ofMinutes(90));
    var disabled = schedules.update(ACCOUNT, request("hourly", "rate(1 hour)", null, "DISABLED", "fn", null));
    assertThat(disabled.nextOccurrence()).isNull();
    assertThat(disabled.timingRevision()).isEqualTo(1);
    clock.advance(Duration.ofMinutes(90));
    var enabled = schedules.update(ACCOUNT, request("hourly", "rate(1 hour)", null, "ENABLED", "fn", null));
    assertThat(enabled.nextOccurrence()).as("the next whole hour since creation, not now")
        .isEqualTo(START.plus(Duration.ofHours(3)));
    assertThat(enabled.timingRevision()).isEqualTo(2);
  }

  @Test
  void aNewExpressionStartsAfresh() {
    schedules.create(ACCOUNT, request("r", "rate(1 hour)"));
    clock.advance(Duration.ofMinutes(10));
    var faster = schedules.update(ACCOUNT, request("r", "rate(5 minutes)"));
    assertThat(faster.nextOccurrence()).as("a rate counts from its change").isEqualTo(START.plus(Duration.ofMinutes(10)));
    var cron = schedules.update(ACCOUNT, request("r", "cron(0 12 * * ? *)"));
    assertThat(cron.nextOccurrence()).isEqualTo(Instant.parse("2026-03-01T12:00:00Z"));
  }

  @Test
  void deletingTheFunctionDeletesItsSchedules() {
    schedules.create(ACCOUNT, request("mine", "rate(1 hour)"));
    schedules.create(ACCOUNT, request("theirs", "rate(1 hour)", null, null, "other", null));
    control.deleteFunction(ACCOUNT, FunctionRef.parse("fn", null));
    expect(() -> schedules.get(ACCOUNT, "mine"), ErrorCode.ResourceNotFoundException, "Schedule not found");
    assertThat(schedules.list(ACCOUNT, null, null, null, null).items()).extracting(s -> s.definition().name())
        .containsExactly("theirs");
  }

  @Test
  void anUpdateCannotPointAtAMissingFunction() {
    schedules.create(ACCOUNT, request("s", "rate(1 hour)"));
    expect(() -> schedules.update(ACCOUNT, request("s", "rate(1 hour)", null, null, "ghost", null)),
        ErrorCode.ResourceNotFoundException, "Function not found");
    Schedule unchanged = schedules.get(ACCOUNT, "s");
    assertThat(unchanged.definition().functionName()).isEqualTo("fn");
  }

  private static void expect(ThrowingCallable call, ErrorCode code, String fragment) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.code()).isEqualTo(code))
        .hasMessageContaining(fragment);
  }
}
