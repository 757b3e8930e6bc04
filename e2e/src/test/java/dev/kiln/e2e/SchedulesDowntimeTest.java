package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.ScheduleTestBase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The missed-run policy across kill -9 and restart: of a schedule's occurrences that fell into the
 * downtime, only the latest runs, once, and only while it is younger than the schedule's period
 * (24 hours at most); the others are skipped and counted.
 */
class SchedulesDowntimeTest extends ScheduleTestBase {
  private String fn;

  @BeforeAll
  void deployLogger() {
    fn = eventLogger("sched-down");
  }

  /** Each test leaves the server running for the next one (and for teardown). */
  @AfterEach
  void serverBackUp() {
    if (!server.isRunning()) {
      server.restart();
      connectClients();
    }
  }

  @Test
  void a_one_time_schedule_that_fell_into_a_kill_9_runs_once_after_restart() {
    String name = uniqueName("missed-once");
    String at = atFromNow(Duration.ofSeconds(4), ZoneOffset.UTC);
    Instant due = instantOf(at, ZoneOffset.UTC);
    createScheduleOk(name, """
        {"ScheduleExpression": "%s", "Target": {"Arn": "%s", "Input": "{\\"tag\\": \\"%s\\", \\"at\\": \\"<aws.scheduler.scheduled-time>\\"}"}}
        """.formatted(at, fn, name));
    server.crash();
    Awaitility.await("the one-time schedule's time passed while the server was down")
        .atMost(Duration.ofSeconds(15))
        .until(() -> Instant.now().isAfter(due.plusSeconds(1)));
    server.restart();
    connectClients();

    JsonNode event = awaitEvents(fn, e -> name.equals(e.path("tag").asString())).getFirst().event();
    assertThat(event.path("at").asString()).isEqualTo(due.toString());
    JsonNode schedule = awaitRuns(name);
    assertThat(schedule.path("LastRun").path("CatchUp").asBoolean()).isTrue();
    assertThat(schedule.path("LastRun").path("ScheduledTime").asString()).isEqualTo(due.toString());
    assertThat(schedule.path("MissedCount").asLong()).isZero();
    assertThat(schedule.has("NextInvocation")).isFalse();
    Awaitility.await("the catch-up ran once")
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> loggedEvents(fn).stream().filter(e -> name.equals(e.event().path("tag").asString())).count() == 1);
    assertThat(server.output()).contains("schedule=" + name).contains("caughtUp=true");
  }

  /**
   * Days of downtime cannot be waited for, so the server is killed and the schedules' next
   * occurrences are moved back into the past in its SQLite file, as if it had been down since then.
   */
  @Test
  void after_a_long_downtime_only_the_latest_missed_run_is_made_up_for() throws SQLException {
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    String hourly = uniqueName("hourly");
    Instant hourlyStart = now.minus(Duration.ofHours(5)).plus(Duration.ofMinutes(30));
    String everyOtherDay = uniqueName("two-days");
    Instant twoDayStart = now.minus(Duration.ofDays(4)).plus(Duration.ofHours(1));
    for (String[] schedule : new String[][] {{hourly, "rate(1 hour)", hourlyStart.toString()},
        {everyOtherDay, "rate(2 days)", twoDayStart.toString()}}) {
      createScheduleOk(schedule[0], """
          {"ScheduleExpression": "%s", "StartDate": "%s",
           "Target": {"Arn": "%s", "Input": "{\\"tag\\": \\"%s\\", \\"at\\": \\"<aws.scheduler.scheduled-time>\\"}"}}
          """.formatted(schedule[1], schedule[2], fn, schedule[0]));
    }
    assertThat(getScheduleOk(hourly).path("NextScheduledTime").asString())
        .isEqualTo(hourlyStart.plus(Duration.ofHours(5)).toString());

    server.crash();
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + server.dataDir().resolve("kiln.db"));
        var update = db.prepareStatement("UPDATE schedules SET next_occurrence_ms = ?, due_ms = ? WHERE name = ?")) {
      for (var moved : new Object[][] {{hourly, hourlyStart}, {everyOtherDay, twoDayStart}}) {
        long millis = ((Instant) moved[1]).toEpochMilli();
        update.setLong(1, millis);
        update.setLong(2, millis);
        update.setString(3, (String) moved[0]);
        assertThat(update.executeUpdate()).as("moved %s back", moved[0]).isEqualTo(1);
      }
    }
    server.restart();
    connectClients();

    // rate(1 hour): five occurrences missed; the latest, 30 minutes ago, is younger than the hour.
    Instant latestHour = hourlyStart.plus(Duration.ofHours(4));
    JsonNode event = awaitEvents(fn, e -> hourly.equals(e.path("tag").asString())).getFirst().event();
    assertThat(event.path("at").asString()).isEqualTo(latestHour.toString());
    JsonNode caughtUp = awaitRuns(hourly);
    assertThat(caughtUp.path("LastRun").path("CatchUp").asBoolean()).isTrue();
    assertThat(caughtUp.path("LastRun").path("ScheduledTime").asString()).isEqualTo(latestHour.toString());
    assertThat(caughtUp.path("MissedCount").asLong()).as("the four before it are skipped").isEqualTo(4);
    assertThat(caughtUp.path("NextScheduledTime").asString()).isEqualTo(hourlyStart.plus(Duration.ofHours(5)).toString());

    // rate(2 days): two occurrences missed; the latest is 47 hours old, past the 24-hour cap.
    JsonNode skipped = Awaitility.await("the missed two-day runs are counted")
        .atMost(Duration.ofSeconds(20))
        .until(() -> getScheduleOk(everyOtherDay), s -> s.path("MissedCount").asLong() == 2);
    assertThat(skipped.path("InvocationCount").asLong()).isZero();
    assertThat(skipped.has("LastRun")).isFalse();
    assertThat(skipped.path("NextScheduledTime").asString()).isEqualTo(twoDayStart.plus(Duration.ofDays(4)).toString());
    Awaitility.await("nothing runs for the skipped occurrences, and the hourly catch-up runs once")
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> loggedEvents(fn).stream().noneMatch(e -> everyOtherDay.equals(e.event().path("tag").asString()))
            && loggedEvents(fn).stream().filter(e -> hourly.equals(e.event().path("tag").asString())).count() == 1);
    assertThat(server.output()).contains("schedule=" + hourly).contains("missed=5")
        .contains("schedule=" + everyOtherDay).contains("caughtUp=false");
  }

  private JsonNode awaitRuns(String name) {
    return Awaitility.await("schedule " + name + " ran")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> getScheduleOk(name), s -> s.path("InvocationCount").asLong() >= 1);
  }
}
