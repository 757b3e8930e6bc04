package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.ScheduleTestBase;
import dev.kiln.e2e.support.Functions;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import tools.jackson.databind.JsonNode;

/**
 * Schedules really invoking functions through the built server: the payload with its context
 * attributes, the default scheduled event, time zones, qualifiers, and disabled schedules that
 * stay quiet. One-time schedules a few seconds ahead keep every wait short.
 */
class SchedulesRunTest extends ScheduleTestBase {
  private String fn;

  @BeforeAll
  void deployLogger() {
    fn = eventLogger("sched-run");
  }

  @Test
  void a_one_time_schedule_invokes_the_function_with_its_input() {
    String name = uniqueName("once");
    String at = atFromNow(Duration.ofSeconds(3), ZoneOffset.UTC);
    Instant due = instantOf(at, ZoneOffset.UTC);
    JsonNode created = createScheduleOk(name, """
        {"ScheduleExpression": "%s", "Target": {"Arn": "%s", "Input": "{\\"tag\\": \\"%s\\", \\"arn\\": \\"<aws.scheduler.schedule-arn>\\", \\"at\\": \\"<aws.scheduler.scheduled-time>\\", \\"id\\": \\"<aws.scheduler.execution-id>\\", \\"attempt\\": <aws.scheduler.attempt-number>}"}}
        """.formatted(at, fn, name));
    assertThat(Instant.parse(created.path("NextInvocation").asString())).isEqualTo(due);

    List<LoggedEvent> events = awaitEvents(fn, e -> name.equals(e.path("tag").asString()));
    Instant seen = Instant.now();
    assertThat(seen).as("not before its time").isAfterOrEqualTo(due);
    JsonNode event = events.getFirst().event();
    assertThat(event.path("arn").asString()).isEqualTo(created.path("Arn").asString());
    assertThat(event.path("at").asString()).isEqualTo(due.toString());
    assertThat(event.path("id").asString()).matches("[0-9a-f]{16}");
    assertThat(event.path("attempt").asInt()).isEqualTo(1);

    JsonNode after = awaitRuns(name, 1);
    JsonNode lastRun = after.path("LastRun");
    assertThat(lastRun.path("Status").asString()).isEqualTo("INVOKED");
    assertThat(lastRun.path("ScheduledTime").asString()).isEqualTo(due.toString());
    assertThat(lastRun.path("RequestId").asString()).isEqualTo(events.getFirst().requestId());
    assertThat(lastRun.path("CatchUp").asBoolean()).isFalse();
    assertThat(Instant.parse(lastRun.path("AttemptedAt").asString())).isBetween(due, due.plusSeconds(10));
    assertThat(after.has("NextInvocation")).as("a one-time schedule runs once").isFalse();
    assertThat(events).hasSize(1);
  }

  @Test
  void without_input_the_function_gets_a_scheduled_event() {
    String name = uniqueName("default-event");
    // A rate without StartDate runs right away, then every period.
    JsonNode created = createScheduleOk(name, "{\"ScheduleExpression\": \"rate(1 hour)\", \"Target\": {\"Arn\": \""
        + fn + "\"}}");
    String arn = created.path("Arn").asString();
    List<LoggedEvent> events = awaitEvents(fn, e -> e.path("resources").path(0).asString().equals(arn));
    JsonNode event = events.getFirst().event();
    assertThat(event.path("detail-type").asString()).isEqualTo("Scheduled Event");
    assertThat(event.path("source").asString()).isEqualTo("aws.scheduler");
    assertThat(event.path("account").asString()).isEqualTo(ACCOUNT);
    assertThat(event.path("region").asString()).isEqualTo(REGION);
    assertThat(event.path("time").asString()).isEqualTo(created.path("CreationDate").asString());
    assertThat(event.path("id").asString()).matches("[0-9a-f]{16}");
    assertThat(event.path("detail").isObject()).isTrue();
    JsonNode after = awaitRuns(name, 1);
    assertThat(Instant.parse(after.path("NextScheduledTime").asString()))
        .isEqualTo(Instant.parse(created.path("CreationDate").asString()).plus(Duration.ofHours(1)));
  }

  @Test
  void a_disabled_schedule_does_not_run() {
    String quiet = uniqueName("disabled");
    String control = uniqueName("enabled");
    String at = atFromNow(Duration.ofSeconds(2), ZoneOffset.UTC);
    createScheduleOk(quiet, """
        {"ScheduleExpression": "%s", "State": "DISABLED", "Target": {"Arn": "%s", "Input": "{\\"tag\\": \\"%s\\"}"}}
        """.formatted(at, fn, quiet));
    createScheduleOk(control, """
        {"ScheduleExpression": "%s", "Target": {"Arn": "%s", "Input": "{\\"tag\\": \\"%s\\"}"}}
        """.formatted(at, fn, control));
    // The enabled twin due at the same moment proves the scheduler got there; then two more seconds of quiet.
    awaitEvents(fn, e -> control.equals(e.path("tag").asString()));
    awaitRuns(control, 1);
    Awaitility.await("the disabled schedule stays quiet")
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> loggedEvents(fn).stream().noneMatch(e -> quiet.equals(e.event().path("tag").asString())));
    JsonNode disabled = getScheduleOk(quiet);
    assertThat(disabled.path("InvocationCount").asLong()).isZero();
    assertThat(disabled.has("LastRun")).isFalse();
  }

  @Test
  void one_time_schedules_run_in_their_time_zone() {
    String name = uniqueName("tokyo");
    ZoneId tokyo = ZoneId.of("Asia/Tokyo");
    String at = atFromNow(Duration.ofSeconds(3), tokyo);
    Instant due = instantOf(at, tokyo);
    JsonNode created = createScheduleOk(name, """
        {"ScheduleExpression": "%s", "ScheduleExpressionTimezone": "Asia/Tokyo",
         "Target": {"Arn": "%s", "Input": "{\\"tag\\": \\"%s\\", \\"at\\": \\"<aws.scheduler.scheduled-time>\\"}"}}
        """.formatted(at, fn, name));
    assertThat(Instant.parse(created.path("NextInvocation").asString())).as("9 hours ahead of UTC").isEqualTo(due);
    JsonNode event = awaitEvents(fn, e -> name.equals(e.path("tag").asString())).getFirst().event();
    assertThat(event.path("at").asString()).isEqualTo(due.toString());
    assertThat(Instant.now()).isAfterOrEqualTo(due);
  }

  @Test
  void a_qualified_target_runs_that_version() {
    String versioned = deploy("sched-version", "nodejs22.x", "index.handler",
        Functions.node("exports.handler = async (e) => { console.log('EVENT ' + JSON.stringify({tag: e.tag, code: 'one'})); };"));
    String version = lambda.publishVersion(b -> b.functionName(versioned)).version();
    lambda.updateFunctionCode(b -> b.functionName(versioned).zipFile(SdkBytes.fromByteArray(
        Functions.node("exports.handler = async (e) => { console.log('EVENT ' + JSON.stringify({tag: e.tag, code: 'two'})); };"))));
    awaitUpdated(versioned);
    String name = uniqueName("pinned");
    createScheduleOk(name, """
        {"ScheduleExpression": "%s", "Target": {"Arn": "%s:%s", "Input": "{\\"tag\\": \\"%s\\"}"}}
        """.formatted(atFromNow(Duration.ofSeconds(2), ZoneOffset.UTC), versioned, version, name));
    JsonNode event = awaitEvents(versioned, e -> name.equals(e.path("tag").asString())).getFirst().event();
    assertThat(event.path("code").asString()).as("version %s, not $LATEST", version).isEqualTo("one");
    assertThat(getScheduleOk(name).path("Target").path("Arn").asString()).isEqualTo(arn(versioned) + ":" + version);
  }

  @Test
  void a_flexible_window_reports_a_run_time_inside_the_window() {
    String name = uniqueName("flexible");
    JsonNode created = createScheduleOk(name, """
        {"ScheduleExpression": "cron(0 * * * ? *)", "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30},
         "Target": {"Arn": "%s"}}
        """.formatted(fn));
    Instant scheduled = Instant.parse(created.path("NextScheduledTime").asString());
    assertThat(scheduled.getEpochSecond() % 3600).as("on the hour").isZero();
    assertThat(Instant.parse(created.path("NextInvocation").asString()))
        .isBetween(scheduled, scheduled.plus(Duration.ofMinutes(30)));
  }

  /** Waits until the schedule has this many accepted runs and returns it. */
  private JsonNode awaitRuns(String name, long runs) {
    return Awaitility.await("schedule " + name + " has run " + runs + " time(s)")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> getScheduleOk(name), s -> s.path("InvocationCount").asLong() >= runs);
  }
}
