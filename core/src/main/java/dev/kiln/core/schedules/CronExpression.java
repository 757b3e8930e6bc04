package dev.kiln.core.schedules;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The six fields of an EventBridge cron expression, {@code minutes hours day-of-month month
 * day-of-week year}, and the next time they match.
 *
 * <p>The rules are EventBridge's: exactly one of day-of-month and day-of-week is {@code ?};
 * {@code *}, lists ({@code ,}), ranges ({@code -}) and steps ({@code /}) in every field but
 * day-of-week, which takes no steps; months 1-12 or JAN-DEC; days of the week 1-7 with 1 = SUN, or
 * SUN-SAT; years 1970-2199; {@code L} (last day of the month, or in day-of-week {@code 6L} the last
 * Friday and {@code L} alone Saturday), {@code LW} (last weekday of the month), {@code 15W} (the
 * weekday nearest the 15th, within the month) and {@code 6#3} (the third Friday).
 *
 * <p>Daylight saving, as EventBridge Scheduler documents it: a local time the clocks skip (02:30 on
 * the day they jump from 02:00 to 03:00) does not run that day, and a local time they repeat (01:30
 * on the day they fall back) runs once, at its first occurrence.
 */
public final class CronExpression {
  public static final int MIN_YEAR = 1970;
  public static final int MAX_YEAR = 2199;

  private static final List<String> MONTHS =
      List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");
  private static final List<String> DAYS = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");

  private final BitSet minutes;
  private final BitSet hours;
  private final DaySelector days;
  private final BitSet months;
  private final BitSet years;

  private CronExpression(BitSet minutes, BitSet hours, DaySelector days, BitSet months, BitSet years) {
    this.minutes = minutes;
    this.hours = hours;
    this.days = days;
    this.months = months;
    this.years = years;
  }

  /** Parses the fields inside {@code cron(...)}; {@code text} is the whole expression, for messages. */
  static CronExpression parse(String text, String inner) {
    String[] fields = inner.isEmpty() ? new String[0] : WHITESPACE.split(inner);
    if (fields.length != 6) {
      throw ScheduleExpression.invalid(text, "a cron expression has 6 fields (minutes hours day-of-month month "
          + "day-of-week year), this one has " + fields.length + "; for example cron(0 12 * * ? *) runs at noon "
          + "every day");
    }
    var parser = new FieldParser(text);
    BitSet minutes = parser.values("minutes", fields[0], 0, 59, null, true);
    BitSet hours = parser.values("hours", fields[1], 0, 23, null, true);
    BitSet months = parser.values("month", fields[3], 1, 12, MONTHS, true);
    BitSet years = parser.values("year", fields[5], MIN_YEAR, MAX_YEAR, null, true);
    String dayOfMonth = fields[2];
    String dayOfWeek = fields[4];
    boolean domAny = dayOfMonth.equals("?");
    boolean dowAny = dayOfWeek.equals("?");
    if (domAny == dowAny) {
      throw ScheduleExpression.invalid(text, domAny
          ? "day-of-month and day-of-week cannot both be '?'; give one of them, for example cron(0 12 * * ? *)"
          : "day-of-month ('" + dayOfMonth + "') and day-of-week ('" + dayOfWeek + "') cannot both be given; "
              + "put '?' in one of them, for example cron(0 12 * * ? *) or cron(0 12 ? * MON-FRI *)");
    }
    DaySelector days = domAny ? parser.dayOfWeek(dayOfWeek) : parser.dayOfMonth(dayOfMonth);
    return new CronExpression(minutes, hours, days, months, years);
  }

  /**
   * The first time at or after {@code from} that matches, evaluated in {@code zone}, or null when
   * none does up to the end of {@value #MAX_YEAR}.
   */
  public Instant atOrAfter(Instant from, ZoneId zone) {
    var rules = zone.getRules();
    LocalDateTime start = LocalDateTime.ofInstant(from, zone);
    LocalDateTime firstMinute = start.truncatedTo(ChronoUnit.MINUTES);
    if (firstMinute.isBefore(start)) {
      firstMinute = firstMinute.plusMinutes(1);
    }
    LocalDate date = firstMinute.toLocalDate();
    LocalTime earliest = firstMinute.toLocalTime();
    while (date.getYear() <= MAX_YEAR) {
      if (!years.get(date.getYear())) {
        int nextYear = years.nextSetBit(date.getYear() + 1);
        if (nextYear < 0) {
          return null;
        }
        date = LocalDate.of(nextYear, 1, 1);
        earliest = LocalTime.MIDNIGHT;
        continue;
      }
      if (!months.get(date.getMonthValue())) {
        date = date.withDayOfMonth(1).plusMonths(1);
        earliest = LocalTime.MIDNIGHT;
        continue;
      }
      if (days.matches(date)) {
        for (int hour = hours.nextSetBit(earliest.getHour()); hour >= 0; hour = hours.nextSetBit(hour + 1)) {
          int firstMinuteOfHour = hour == earliest.getHour() ? earliest.getMinute() : 0;
          for (int minute = minutes.nextSetBit(firstMinuteOfHour); minute >= 0; minute = minutes.nextSetBit(minute + 1)) {
            var local = date.atTime(hour, minute);
            var offsets = rules.getValidOffsets(local);
            // No valid offset: the clocks skip this local time, so it does not run. Two: the clocks
            // repeat it, and it runs at the first, which is the earlier offset.
            if (!offsets.isEmpty()) {
              var instant = local.toInstant(offsets.getFirst());
              if (!instant.isBefore(from)) {
                return instant;
              }
            }
          }
        }
      }
      date = date.plusDays(1);
      earliest = LocalTime.MIDNIGHT;
    }
    return null;
  }

  /** Which days of a month match: one of the day-of-month or the day-of-week forms. */
  sealed interface DaySelector {
    boolean matches(LocalDate date);
  }

  /** Days of the month from a list of values, ranges and steps. */
  record DaysOfMonth(BitSet days) implements DaySelector {
    @Override
    public boolean matches(LocalDate date) {
      return days.get(date.getDayOfMonth());
    }
  }

  /** {@code L}: the last day of the month. */
  record LastDayOfMonth() implements DaySelector {
    @Override
    public boolean matches(LocalDate date) {
      return date.getDayOfMonth() == date.lengthOfMonth();
    }
  }

  /** {@code LW}: the last Monday-to-Friday of the month. */
  record LastWeekdayOfMonth() implements DaySelector {
    @Override
    public boolean matches(LocalDate date) {
      var last = date.withDayOfMonth(date.lengthOfMonth());
      while (isWeekend(last)) {
        last = last.minusDays(1);
      }
      return date.equals(last);
    }
  }

  /**
   * {@code 15W}: the Monday-to-Friday nearest the given day without leaving the month (1W on a
   * Saturday is Monday the 3rd). A day the month does not have (31W in April) does not run.
   */
  record NearestWeekday(int day) implements DaySelector {
    @Override
    public boolean matches(LocalDate date) {
      if (day > date.lengthOfMonth()) {
        return false;
      }
      var target = date.withDayOfMonth(day);
      if (target.getDayOfWeek() == DayOfWeek.SATURDAY) {
        target = day == 1 ? target.plusDays(2) : target.minusDays(1);
      } else if (target.getDayOfWeek() == DayOfWeek.SUNDAY) {
        target = day == date.lengthOfMonth() ? target.minusDays(2) : target.plusDays(1);
      }
      return date.equals(target);
    }
  }

  /** Days of the week (1 = SUN ... 7 = SAT) from a list of values and ranges. */
  record DaysOfWeek(BitSet days) implements DaySelector {
    @Override
    public boolean matches(LocalDate date) {
      return days.get(eventBridgeDay(date));
    }
  }

  /** {@code 6L}: the last given day of the week in the month. */
  record LastDayOfWeek(int dayOfWeek) implements DaySelector {
    @Override
    public boolean matches(LocalDate date) {
      return eventBridgeDay(date) == dayOfWeek && date.getDayOfMonth() + 7 > date.lengthOfMonth();
    }
  }

  /** {@code 6#3}: the n-th given day of the week in the month. */
  record NthDayOfWeek(int dayOfWeek, int nth) implements DaySelector {
    @Override
    public boolean matches(LocalDate date) {
      return eventBridgeDay(date) == dayOfWeek && (date.getDayOfMonth() - 1) / 7 + 1 == nth;
    }
  }

  /** EventBridge numbers the days of the week 1 = SUN to 7 = SAT. */
  static int eventBridgeDay(LocalDate date) {
    return date.getDayOfWeek().getValue() % 7 + 1;
  }

  private static boolean isWeekend(LocalDate date) {
    return date.getDayOfWeek() == DayOfWeek.SATURDAY || date.getDayOfWeek() == DayOfWeek.SUNDAY;
  }

  /** Parses fields and names the one at fault in its messages. */
  private record FieldParser(String text) {
    private static final Pattern NEAREST_WEEKDAY = Pattern.compile("([0-9]{1,2})W");

    BitSet values(String field, String raw, int min, int max, List<String> names, boolean stepsAllowed) {
      if (raw.equals("?")) {
        throw error(field, raw, "'?' is only allowed in day-of-month or day-of-week");
      }
      var set = new BitSet(max + 1);
      for (String item : raw.split(",", -1)) {
        if (item.isEmpty()) {
          throw error(field, raw, "it has an empty item in its list");
        }
        addItem(field, raw, item, min, max, names, stepsAllowed, set);
      }
      return set;
    }

    private void addItem(String field, String raw, String item, int min, int max, List<String> names,
        boolean stepsAllowed, BitSet set) {
      int step = 1;
      String range = item;
      int slash = item.indexOf('/');
      if (slash >= 0) {
        if (!stepsAllowed) {
          throw error(field, raw, "steps ('/') are not allowed in " + field);
        }
        range = item.substring(0, slash);
        step = number(field, raw, item.substring(slash + 1), 1, max - min + 1, "the step");
      }
      int from;
      int to;
      if (range.equals("*")) {
        from = min;
        to = max;
      } else {
        int dash = range.indexOf('-');
        if (dash > 0) {
          from = value(field, raw, range.substring(0, dash), min, max, names);
          to = value(field, raw, range.substring(dash + 1), min, max, names);
          if (from > to) {
            throw error(field, raw, "the range " + range + " runs backwards; write it from low to high");
          }
        } else {
          from = value(field, raw, range, min, max, names);
          // "5/15" means from 5 to the end in steps of 15, as in Quartz and EventBridge.
          to = slash >= 0 ? max : from;
        }
      }
      for (int v = from; v <= to; v += step) {
        set.set(v);
      }
    }

    DaySelector dayOfMonth(String raw) {
      String field = "day-of-month";
      switch (raw) {
        case "L" -> {
          return new LastDayOfMonth();
        }
        case "LW" -> {
          return new LastWeekdayOfMonth();
        }
        default -> {
          var nearest = NEAREST_WEEKDAY.matcher(raw);
          if (nearest.matches()) {
            return new NearestWeekday(number(field, raw, nearest.group(1), 1, 31, "the day"));
          }
          if (raw.contains("L") || raw.contains("W")) {
            throw error(field, raw, "L, LW and W stand alone: use L (last day), LW (last weekday) or a single "
                + "day with W such as 15W (weekday nearest the 15th)");
          }
          return new DaysOfMonth(values(field, raw, 1, 31, null, true));
        }
      }
    }

    DaySelector dayOfWeek(String raw) {
      String field = "day-of-week";
      if (raw.equals("L")) {
        return new LastDayOfWeek(7);
      }
      int hash = raw.indexOf('#');
      if (hash >= 0) {
        int day = value(field, raw, raw.substring(0, hash), 1, 7, DAYS);
        int nth = number(field, raw, raw.substring(hash + 1), 1, 5, "the week number after '#'");
        return new NthDayOfWeek(day, nth);
      }
      if (raw.length() > 1 && raw.endsWith("L")) {
        return new LastDayOfWeek(value(field, raw, raw.substring(0, raw.length() - 1), 1, 7, DAYS));
      }
      if (raw.contains("L") || raw.contains("W")) {
        throw error(field, raw, "use L alone or after a single day, such as 6L or FRIL (last Friday of the month); "
            + "W is only for day-of-month");
      }
      return new DaysOfWeek(values(field, raw, 1, 7, DAYS, false));
    }

    private int value(String field, String raw, String token, int min, int max, List<String> names) {
      if (names != null) {
        int index = names.indexOf(token.toUpperCase(Locale.ROOT));
        if (index >= 0) {
          return index + min;
        }
      }
      String what = names == null ? "a number from " + min + " to " + max
          : "a number from " + min + " to " + max + " or a name " + names.getFirst() + "-" + names.getLast();
      if (!token.matches("[0-9]{1,4}")) {
        throw error(field, raw, "'" + token + "' is not " + what);
      }
      int value = Integer.parseInt(token);
      if (value < min || value > max) {
        throw error(field, raw, value + " is out of range; use " + what);
      }
      return value;
    }

    private int number(String field, String raw, String token, int min, int max, String what) {
      if (!token.matches("[0-9]{1,4}") || Integer.parseInt(token) < min || Integer.parseInt(token) > max) {
        throw error(field, raw, what + " must be a number from " + min + " to " + max + ", not '" + token + "'");
      }
      return Integer.parseInt(token);
    }

    private RuntimeException error(String field, String raw, String problem) {
      return ScheduleExpression.invalid(text, "the " + field + " field '" + raw + "' is invalid: " + problem);
    }
  }
}
