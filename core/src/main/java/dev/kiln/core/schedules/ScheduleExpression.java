package dev.kiln.core.schedules;

import dev.kiln.core.KilnException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * When a schedule runs, in EventBridge Scheduler's syntax: {@code rate(value unit)}, {@code
 * cron(minutes hours day-of-month month day-of-week year)} or the one-time {@code
 * at(yyyy-mm-ddThh:mm:ss)}. Parsing checks everything EventBridge checks and names the field at
 * fault, so a client learns what to fix from the 400 alone.
 */
public sealed interface ScheduleExpression {
  int MAX_LENGTH = 256;

  /** The expression as the client wrote it. */
  String text();

  static ScheduleExpression parse(String text) {
    if (text == null || text.isBlank()) {
      throw KilnException.invalid("ScheduleExpression must not be empty: use rate(value unit), cron(fields) or "
          + "at(yyyy-mm-ddThh:mm:ss).");
    }
    if (text.length() > MAX_LENGTH) {
      throw KilnException.invalid("ScheduleExpression must be at most " + MAX_LENGTH + " characters long.");
    }
    String trimmed = text.strip();
    if (trimmed.startsWith("rate(") && trimmed.endsWith(")")) {
      return Rate.parse(text, inner(trimmed, "rate("));
    }
    if (trimmed.startsWith("cron(") && trimmed.endsWith(")")) {
      return new Cron(text, CronExpression.parse(text, inner(trimmed, "cron(")));
    }
    if (trimmed.startsWith("at(") && trimmed.endsWith(")")) {
      return At.parse(text, inner(trimmed, "at("));
    }
    throw invalid(text, "it must look like rate(5 minutes), cron(0 12 * * ? *) or at(2030-01-31T08:00:00)");
  }

  private static String inner(String trimmed, String prefix) {
    return trimmed.substring(prefix.length(), trimmed.length() - 1).strip();
  }

  /** The 400 for a bad expression: what was wrong and how the right one looks. */
  static KilnException invalid(String text, String problem) {
    return KilnException.invalid("Invalid ScheduleExpression '" + text + "': " + problem + ".");
  }

  /**
   * Every {@code period} of elapsed time. The interval is physical time, so a daylight-saving change
   * does not shift it: {@code rate(1 day)} runs every 24 hours, as on EventBridge.
   */
  record Rate(String text, Duration period) implements ScheduleExpression {
    private static final Pattern SYNTAX = Pattern.compile("([0-9]+)\\s+([a-z]+)");

    static Rate parse(String text, String inner) {
      var matcher = SYNTAX.matcher(inner);
      if (!matcher.matches()) {
        throw invalid(text, "a rate needs a positive whole number and a unit, for example rate(5 minutes) or "
            + "rate(1 hour)");
      }
      long value;
      try {
        value = Long.parseLong(matcher.group(1));
      } catch (NumberFormatException e) {
        value = -1;
      }
      // Up to 100 years in minutes keeps every computation far from overflow.
      if (value < 1 || value > 52_560_000L) {
        throw invalid(text, "the value must be a whole number from 1 to 52560000");
      }
      String unit = matcher.group(2);
      Duration one = switch (unit) {
        case "minute", "minutes" -> Duration.ofMinutes(1);
        case "hour", "hours" -> Duration.ofHours(1);
        case "day", "days" -> Duration.ofDays(1);
        default -> throw invalid(text, "the unit must be minute(s), hour(s) or day(s), not '" + unit + "'");
      };
      boolean singular = !unit.endsWith("s");
      if (value == 1 && !singular) {
        throw invalid(text, "a value of 1 takes the singular unit: rate(1 " + unit.substring(0, unit.length() - 1)
            + ")");
      }
      if (value != 1 && singular) {
        throw invalid(text, "a value other than 1 takes the plural unit: rate(" + value + " " + unit + "s)");
      }
      var period = one.multipliedBy(value);
      if (period.compareTo(Duration.ofDays(36_500)) > 0) {
        throw invalid(text, "the period must be at most 36500 days");
      }
      return new Rate(text, period);
    }
  }

  /** A calendar pattern evaluated in the schedule's time zone. */
  record Cron(String text, CronExpression fields) implements ScheduleExpression {}

  /** Once, at a local date and time in the schedule's time zone. */
  record At(String text, LocalDateTime time) implements ScheduleExpression {
    private static final Pattern SYNTAX = Pattern.compile("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}");

    static At parse(String text, String inner) {
      if (!SYNTAX.matcher(inner).matches()) {
        throw invalid(text, "a one-time schedule is at(yyyy-mm-ddThh:mm:ss), for example at(2030-01-31T08:00:00), "
            + "in the schedule's time zone (ScheduleExpressionTimezone)");
      }
      LocalDateTime time;
      try {
        time = LocalDateTime.parse(inner);
      } catch (DateTimeParseException e) {
        throw invalid(text, "'" + inner + "' is not a valid date and time");
      }
      if (time.getYear() < CronExpression.MIN_YEAR || time.getYear() > CronExpression.MAX_YEAR) {
        throw invalid(text, "the year must be from " + CronExpression.MIN_YEAR + " to " + CronExpression.MAX_YEAR);
      }
      return new At(text, time);
    }

    /**
     * The instant of the local time in {@code zone}. A local time that a daylight-saving change
     * skips runs as much later as the gap is long (02:30 on a day that jumps from 02:00 to 03:00
     * runs at 03:30), so a one-time schedule is never lost; a repeated local time runs at its first,
     * earlier, occurrence.
     */
    public Instant instant(ZoneId zone) {
      return time.atZone(zone).toInstant();
    }
  }
}
