package dev.kiln.core.schedules;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ScheduleTimesTest {
  private static final Instant CREATED = Instant.parse("2026-01-10T10:07:00Z");

  static ScheduleDefinition definition(String expression, String zone) {
    return definition(expression, zone, null, null, FlexibleTimeWindow.OFF);
  }

  static ScheduleDefinition definition(String expression, String zone, Instant start, Instant end,
      FlexibleTimeWindow window) {
    return new ScheduleDefinition("123456789012", "nightly", expression, zone, start, end, ScheduleState.ENABLED,
        window, "fn", null, null, null, CREATED, CREATED, CREATED);
  }

  static ScheduleTimes times(String expression, String zone) {
    return ScheduleTimes.of(definition(expression, zone));
  }

  /** The first {@code count} occurrences at or after {@code from}. */
  static List<Instant> occurrences(ScheduleTimes times, Instant from, int count) {
    var result = new ArrayList<Instant>();
    Instant next = times.firstAtOrAfter(from);
    while (next != null && result.size() < count) {
      result.add(next);
      next = times.after(next);
    }
    return result;
  }

  static Instant utc(String text) {
    return Instant.parse(text);
  }

  /** A local time in a zone, as the instant it denotes (earlier offset when repeated). */
  static Instant local(String text, String zone) {
    return LocalDateTime.parse(text).atZone(ZoneId.of(zone)).toInstant();
  }

  @Nested
  class CronFields {
    @Test
    void dailyAtNoonIncludesTheStartingInstantAndMovesOnAfterIt() {
      var noon = times("cron(0 12 * * ? *)", "UTC");
      assertThat(noon.firstAtOrAfter(utc("2026-03-01T11:59:30Z"))).isEqualTo(utc("2026-03-01T12:00:00Z"));
      assertThat(noon.firstAtOrAfter(utc("2026-03-01T12:00:00Z"))).isEqualTo(utc("2026-03-01T12:00:00Z"));
      assertThat(noon.firstAtOrAfter(utc("2026-03-01T12:00:00.001Z"))).isEqualTo(utc("2026-03-02T12:00:00Z"));
      assertThat(noon.after(utc("2026-03-01T12:00:00Z"))).isEqualTo(utc("2026-03-02T12:00:00Z"));
    }

    @Test
    void stepsAndRanges() {
      assertThat(occurrences(times("cron(0/15 * * * ? *)", "UTC"), utc("2026-03-01T10:07:00Z"), 4))
          .containsExactly(utc("2026-03-01T10:15:00Z"), utc("2026-03-01T10:30:00Z"), utc("2026-03-01T10:45:00Z"),
              utc("2026-03-01T11:00:00Z"));
      assertThat(occurrences(times("cron(10-20/5 8 * * ? *)", "UTC"), utc("2026-03-01T00:00:00Z"), 4))
          .containsExactly(utc("2026-03-01T08:10:00Z"), utc("2026-03-01T08:15:00Z"), utc("2026-03-01T08:20:00Z"),
              utc("2026-03-02T08:10:00Z"));
      assertThat(occurrences(times("cron(15,45 1,13 * * ? *)", "UTC"), utc("2026-03-01T00:00:00Z"), 5))
          .containsExactly(utc("2026-03-01T01:15:00Z"), utc("2026-03-01T01:45:00Z"), utc("2026-03-01T13:15:00Z"),
              utc("2026-03-01T13:45:00Z"), utc("2026-03-02T01:15:00Z"));
      assertThat(occurrences(times("cron(0 0 1 */4 ? *)", "UTC"), utc("2026-02-01T00:00:01Z"), 3))
          .containsExactly(utc("2026-05-01T00:00:00Z"), utc("2026-09-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"));
    }

    @Test
    void weekdaysByNumberAndByName() {
      // 2026-03-07 is a Saturday.
      Instant saturday = utc("2026-03-07T10:00:00Z");
      var byName = occurrences(times("cron(0 9 ? * MON-FRI *)", "UTC"), saturday, 6);
      var byNumber = occurrences(times("cron(0 9 ? * 2-6 *)", "UTC"), saturday, 6);
      assertThat(byName).isEqualTo(byNumber).containsExactly(utc("2026-03-09T09:00:00Z"), utc("2026-03-10T09:00:00Z"),
          utc("2026-03-11T09:00:00Z"), utc("2026-03-12T09:00:00Z"), utc("2026-03-13T09:00:00Z"),
          utc("2026-03-16T09:00:00Z"));
      assertThat(occurrences(times("cron(0 8 ? * 1,7 *)", "UTC"), saturday, 3))
          .as("1 is Sunday, 7 Saturday")
          .containsExactly(utc("2026-03-08T08:00:00Z"), utc("2026-03-14T08:00:00Z"), utc("2026-03-15T08:00:00Z"));
      assertThat(times("cron(0 8 ? * sun *)", "UTC").firstAtOrAfter(saturday)).isEqualTo(utc("2026-03-08T08:00:00Z"));
    }

    @Test
    void monthNamesAndYears() {
      assertThat(occurrences(times("cron(0 0 1 JAN,jul ? *)", "UTC"), utc("2026-03-01T00:00:00Z"), 3))
          .containsExactly(utc("2026-07-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"), utc("2027-07-01T00:00:00Z"));
      assertThat(times("cron(0 0 1 1 ? 2030)", "UTC").firstAtOrAfter(utc("2026-03-01T00:00:00Z")))
          .isEqualTo(utc("2030-01-01T00:00:00Z"));
      var twoYears = times("cron(0 0 1 1 ? 2027-2028)", "UTC");
      assertThat(occurrences(twoYears, utc("2026-03-01T00:00:00Z"), 5))
          .containsExactly(utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"));
      assertThat(times("cron(59 23 31 DEC ? 2199)", "UTC").after(utc("2199-12-31T23:59:00Z"))).isNull();
    }

    @Test
    void lastDayOfTheMonth() {
      assertThat(occurrences(times("cron(0 0 L * ? *)", "UTC"), utc("2027-01-15T00:00:00Z"), 4))
          .containsExactly(utc("2027-01-31T00:00:00Z"), utc("2027-02-28T00:00:00Z"), utc("2027-03-31T00:00:00Z"),
              utc("2027-04-30T00:00:00Z"));
      assertThat(times("cron(0 0 L * ? *)", "UTC").firstAtOrAfter(utc("2028-02-01T00:00:00Z")))
          .as("leap year").isEqualTo(utc("2028-02-29T00:00:00Z"));
    }

    @Test
    void lastWeekdayOfTheMonth() {
      // 2026-05-31 is a Sunday, 2026-10-31 a Saturday, 2026-06-30 a Tuesday.
      assertThat(occurrences(times("cron(0 0 LW * ? *)", "UTC"), utc("2026-05-01T00:00:00Z"), 6))
          .containsExactly(utc("2026-05-29T00:00:00Z"), utc("2026-06-30T00:00:00Z"), utc("2026-07-31T00:00:00Z"),
              utc("2026-08-31T00:00:00Z"), utc("2026-09-30T00:00:00Z"), utc("2026-10-30T00:00:00Z"));
    }

    @Test
    void nearestWeekdayStaysInsideTheMonth() {
      // The 15th: 2026-08-15 is a Saturday (-> Friday 14th), 2026-03-15 a Sunday (-> Monday 16th).
      var fifteenth = times("cron(0 0 15W * ? *)", "UTC");
      assertThat(fifteenth.firstAtOrAfter(utc("2026-08-01T00:00:00Z"))).isEqualTo(utc("2026-08-14T00:00:00Z"));
      assertThat(fifteenth.firstAtOrAfter(utc("2026-03-01T00:00:00Z"))).isEqualTo(utc("2026-03-16T00:00:00Z"));
      assertThat(fifteenth.firstAtOrAfter(utc("2026-04-01T00:00:00Z"))).as("a Wednesday").isEqualTo(utc("2026-04-15T00:00:00Z"));
      // 2026-08-01 is a Saturday: not back into July but forward to Monday the 3rd.
      assertThat(times("cron(0 0 1W * ? *)", "UTC").firstAtOrAfter(utc("2026-07-05T00:00:00Z")))
          .isEqualTo(utc("2026-08-03T00:00:00Z"));
      // 2026-05-31 is a Sunday: not forward into June but back to Friday the 29th; April has no 31st.
      var thirtyFirst = times("cron(0 0 31W * ? *)", "UTC");
      assertThat(thirtyFirst.firstAtOrAfter(utc("2026-05-01T00:00:00Z"))).isEqualTo(utc("2026-05-29T00:00:00Z"));
      assertThat(thirtyFirst.firstAtOrAfter(utc("2026-04-01T00:00:00Z"))).isEqualTo(utc("2026-05-29T00:00:00Z"));
    }

    @Test
    void nthAndLastDayOfTheWeek() {
      // Fridays in January 2026: 2, 9, 16, 23, 30; Saturdays: 3 ... 31.
      Instant newYear = utc("2026-01-01T00:00:00Z");
      assertThat(times("cron(0 10 ? * 6#3 *)", "UTC").firstAtOrAfter(newYear)).isEqualTo(utc("2026-01-16T10:00:00Z"));
      assertThat(times("cron(0 10 ? * FRI#3 *)", "UTC").firstAtOrAfter(newYear)).isEqualTo(utc("2026-01-16T10:00:00Z"));
      assertThat(times("cron(0 10 ? * 6#1 *)", "UTC").firstAtOrAfter(newYear)).isEqualTo(utc("2026-01-02T10:00:00Z"));
      assertThat(times("cron(0 10 ? * 6L *)", "UTC").firstAtOrAfter(newYear)).isEqualTo(utc("2026-01-30T10:00:00Z"));
      assertThat(times("cron(0 10 ? * FRIL *)", "UTC").firstAtOrAfter(newYear)).isEqualTo(utc("2026-01-30T10:00:00Z"));
      assertThat(times("cron(0 10 ? * L *)", "UTC").firstAtOrAfter(newYear)).isEqualTo(utc("2026-01-31T10:00:00Z"));
      // February 2026 has four Fridays, so the fifth is found in May (Fridays 1, 8, 15, 22, 29).
      assertThat(times("cron(0 10 ? * 6#5 *)", "UTC").firstAtOrAfter(utc("2026-02-01T00:00:00Z")))
          .isEqualTo(utc("2026-05-29T10:00:00Z"));
    }

    @Test
    void aDateThatNeverComesHasNoOccurrence() {
      var started = System.nanoTime();
      assertThat(times("cron(0 0 30 2 ? *)", "UTC").firstAtOrAfter(utc("2026-01-01T00:00:00Z"))).isNull();
      assertThat(times("cron(0 0 29 2 ? *)", "UTC").firstAtOrAfter(utc("2026-01-01T00:00:00Z")))
          .isEqualTo(utc("2028-02-29T00:00:00Z"));
      assertThat(System.nanoTime() - started).as("skips whole months and years").isLessThan(Duration.ofSeconds(5).toNanos());
    }

    @Test
    void evaluatedInTheSchedulesTimeZone() {
      assertThat(times("cron(0 9 * * ? *)", "Asia/Tokyo").firstAtOrAfter(utc("2026-03-01T01:00:00Z")))
          .isEqualTo(utc("2026-03-02T00:00:00Z"));
      assertThat(times("cron(0 9 * * ? *)", "America/New_York").firstAtOrAfter(utc("2026-01-15T00:00:00Z")))
          .isEqualTo(utc("2026-01-15T14:00:00Z"));
      assertThat(times("cron(0 9 * * ? *)", "+05:30").firstAtOrAfter(utc("2026-01-15T00:00:00Z")))
          .isEqualTo(utc("2026-01-15T03:30:00Z"));
    }
  }

  /**
   * EventBridge Scheduler's rule: a local time the clocks skip does not run; one they repeat runs
   * once. New York springs forward on 2026-03-08 (02:00 EST -> 03:00 EDT) and falls back on
   * 2026-11-01 (02:00 EDT -> 01:00 EST); Berlin on 2026-03-29 (02:00 CET -> 03:00 CEST) and
   * 2026-10-25 (03:00 CEST -> 02:00 CET).
   */
  @Nested
  class DaylightSaving {
    @Test
    void aSkippedLocalTimeDoesNotRunThatDay() {
      var ny = times("cron(30 2 * * ? *)", "America/New_York");
      assertThat(occurrences(ny, local("2026-03-07T00:00:00", "America/New_York"), 3))
          .containsExactly(utc("2026-03-07T07:30:00Z"), utc("2026-03-09T06:30:00Z"), utc("2026-03-10T06:30:00Z"));
      var berlin = times("cron(30 2 * * ? *)", "Europe/Berlin");
      assertThat(occurrences(berlin, local("2026-03-28T00:00:00", "Europe/Berlin"), 3))
          .containsExactly(utc("2026-03-28T01:30:00Z"), utc("2026-03-30T00:30:00Z"), utc("2026-03-31T00:30:00Z"));
    }

    @Test
    void hourlyRunsSkipTheMissingHour() {
      var hourly = times("cron(0 * * * ? *)", "America/New_York");
      assertThat(occurrences(hourly, utc("2026-03-08T05:00:00Z"), 3))
          .as("00:00 EST, 01:00 EST, then 03:00 EDT")
          .containsExactly(utc("2026-03-08T05:00:00Z"), utc("2026-03-08T06:00:00Z"), utc("2026-03-08T07:00:00Z"));
    }

    @Test
    void aRepeatedLocalTimeRunsOnceAtItsFirstOccurrence() {
      var ny = times("cron(30 1 * * ? *)", "America/New_York");
      assertThat(occurrences(ny, local("2026-10-31T12:00:00", "America/New_York"), 2))
          .as("01:30 EDT on Nov 1, not 01:30 EST an hour later; then 01:30 EST on Nov 2")
          .containsExactly(utc("2026-11-01T05:30:00Z"), utc("2026-11-02T06:30:00Z"));
      // Asked from inside the repeated hour (01:10 EST), the repeat is not run either.
      assertThat(ny.firstAtOrAfter(utc("2026-11-01T06:10:00Z"))).isEqualTo(utc("2026-11-02T06:30:00Z"));
      var berlin = times("cron(30 2 * * ? *)", "Europe/Berlin");
      assertThat(occurrences(berlin, local("2026-10-24T12:00:00", "Europe/Berlin"), 2))
          .containsExactly(utc("2026-10-25T00:30:00Z"), utc("2026-10-26T01:30:00Z"));
    }

    @Test
    void hourlyRunsDoNotRepeatTheRepeatedHour() {
      var hourly = times("cron(0 * * * ? *)", "America/New_York");
      assertThat(occurrences(hourly, utc("2026-11-01T04:00:00Z"), 3))
          .as("00:00 EDT, 01:00 EDT, then 02:00 EST: 01:00 EST is the repeat")
          .containsExactly(utc("2026-11-01T04:00:00Z"), utc("2026-11-01T05:00:00Z"), utc("2026-11-01T07:00:00Z"));
    }

    @Test
    void ratesCountElapsedTimeAcrossTheChange() {
      var start = local("2026-03-07T12:00:00", "America/New_York");
      var daily = ScheduleTimes.of(definition("rate(1 day)", "America/New_York", start, null, FlexibleTimeWindow.OFF));
      assertThat(occurrences(daily, start, 2))
          .as("24 hours later is 13:00 local after the spring-forward")
          .containsExactly(utc("2026-03-07T17:00:00Z"), utc("2026-03-08T17:00:00Z"));
    }

    @Test
    void oneTimeSchedulesInAGapMoveForwardAndInAnOverlapTakeTheFirst() {
      var gap = times("at(2026-03-08T02:30:00)", "America/New_York");
      assertThat(gap.firstAtOrAfter(utc("2026-01-01T00:00:00Z"))).as("03:30 EDT").isEqualTo(utc("2026-03-08T07:30:00Z"));
      var overlap = times("at(2026-11-01T01:30:00)", "America/New_York");
      assertThat(overlap.firstAtOrAfter(utc("2026-01-01T00:00:00Z"))).as("01:30 EDT").isEqualTo(utc("2026-11-01T05:30:00Z"));
    }
  }

  @Nested
  class Bounds {
    @Test
    void aRateWithoutStartDateRunsAtOnceThenEveryPeriod() {
      var rate = times("rate(5 minutes)", "UTC");
      assertThat(occurrences(rate, CREATED, 3))
          .containsExactly(CREATED, CREATED.plusSeconds(300), CREATED.plusSeconds(600));
      assertThat(rate.firstAtOrAfter(CREATED.plusSeconds(301))).isEqualTo(CREATED.plusSeconds(600));
    }

    @Test
    void aRateStartsAtItsStartDate() {
      var start = utc("2026-02-01T00:00:30Z");
      var future = ScheduleTimes.of(definition("rate(1 hour)", "UTC", start, null, FlexibleTimeWindow.OFF));
      assertThat(future.firstAtOrAfter(CREATED)).isEqualTo(start);
      var past = ScheduleTimes.of(definition("rate(1 hour)", "UTC", utc("2026-01-01T00:00:30Z"), null,
          FlexibleTimeWindow.OFF));
      assertThat(past.firstAtOrAfter(CREATED)).as("aligned to the start date").isEqualTo(utc("2026-01-10T11:00:30Z"));
    }

    @Test
    void cronRunsOnlyBetweenStartAndEndDate() {
      var bounded = ScheduleTimes.of(definition("cron(0 12 * * ? *)", "UTC", utc("2026-03-02T12:00:00Z"),
          utc("2026-03-04T12:00:00Z"), FlexibleTimeWindow.OFF));
      assertThat(occurrences(bounded, utc("2026-01-01T00:00:00Z"), 10))
          .containsExactly(utc("2026-03-02T12:00:00Z"), utc("2026-03-03T12:00:00Z"), utc("2026-03-04T12:00:00Z"));
    }

    @Test
    void aRateStopsAtItsEndDate() {
      var bounded = ScheduleTimes.of(definition("rate(1 hour)", "UTC", null, CREATED.plusSeconds(7200),
          FlexibleTimeWindow.OFF));
      assertThat(occurrences(bounded, CREATED, 10))
          .containsExactly(CREATED, CREATED.plusSeconds(3600), CREATED.plusSeconds(7200));
    }

    @Test
    void oneTimeSchedulesIgnoreStartAndEndDateAndRunOnce() {
      var at = ScheduleTimes.of(definition("at(2026-06-01T08:00:00)", "Europe/Berlin", utc("2026-07-01T00:00:00Z"),
          utc("2026-05-01T00:00:00Z"), FlexibleTimeWindow.OFF));
      assertThat(at.firstAtOrAfter(CREATED)).isEqualTo(utc("2026-06-01T06:00:00Z"));
      assertThat(at.after(utc("2026-06-01T06:00:00Z"))).isNull();
      assertThat(at.firstAtOrAfter(utc("2026-06-01T06:00:00.001Z"))).as("once past, never again").isNull();
    }
  }

  @Nested
  class FlexibleWindow {
    @Test
    void eachOccurrenceRunsAtAStableOffsetInsideTheWindow() {
      var window = new FlexibleTimeWindow(FlexibleTimeWindow.Mode.FLEXIBLE, 15);
      var times = ScheduleTimes.of(definition("cron(0 * * * ? *)", "UTC", null, null, window));
      var again = ScheduleTimes.of(definition("cron(0 * * * ? *)", "UTC", null, null, window));
      var offsets = new HashSet<Long>();
      for (Instant occurrence : occurrences(times, CREATED, 50)) {
        Instant run = times.runAt(occurrence);
        assertThat(run).isBetween(occurrence, occurrence.plus(Duration.ofMinutes(15)).minusMillis(1));
        assertThat(again.runAt(occurrence)).as("the same after a restart").isEqualTo(run);
        offsets.add(Duration.between(occurrence, run).toMillis());
      }
      assertThat(offsets).as("spread over the window, not one fixed delay").hasSizeGreaterThan(40);
    }

    @Test
    void differentSchedulesSpreadDifferently() {
      var window = new FlexibleTimeWindow(FlexibleTimeWindow.Mode.FLEXIBLE, 60);
      var a = ScheduleTimes.of(definition("cron(0 12 * * ? *)", "UTC", null, null, window));
      var other = new ScheduleDefinition("123456789012", "other", "cron(0 12 * * ? *)", "UTC", null, null,
          ScheduleState.ENABLED, window, "fn", null, null, null, CREATED, CREATED, CREATED);
      var b = ScheduleTimes.of(other);
      Instant noon = utc("2026-03-01T12:00:00Z");
      assertThat(a.runAt(noon)).isNotEqualTo(b.runAt(noon));
    }

    @Test
    void offRunsOnTheDot() {
      var times = times("cron(0 12 * * ? *)", "UTC");
      Instant noon = utc("2026-03-01T12:00:00Z");
      assertThat(times.runAt(noon)).isEqualTo(noon);
    }
  }

  @Test
  void graceIsThePeriodAtMostADay() {
    Instant noon = utc("2026-03-01T12:00:00Z");
    assertThat(times("rate(5 minutes)", "UTC").grace(noon)).isEqualTo(Duration.ofMinutes(5));
    assertThat(times("rate(2 days)", "UTC").grace(noon)).isEqualTo(Duration.ofHours(24));
    assertThat(times("cron(0/15 * * * ? *)", "UTC").grace(noon)).isEqualTo(Duration.ofMinutes(15));
    assertThat(times("cron(0 12 * * ? *)", "UTC").grace(noon)).isEqualTo(Duration.ofHours(24));
    assertThat(times("cron(0 12 1 * ? *)", "UTC").grace(noon)).isEqualTo(Duration.ofHours(24));
    assertThat(times("cron(0 9,12 * * ? *)", "UTC").grace(noon)).as("to 09:00 the next day").isEqualTo(Duration.ofHours(21));
    assertThat(times("at(2026-03-01T12:00:00)", "UTC").grace(noon)).isEqualTo(Duration.ofHours(24));
  }
}
