package dev.kiln.core.schedules;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.SplittableRandom;

/**
 * When one schedule's occurrences are: its expression evaluated in its time zone, within its start
 * and end dates, each occurrence shifted by its flexible-window offset.
 *
 * <p>Scheduled times are exact: Kiln runs an occurrence at its time, not somewhere in the minute as
 * EventBridge does.
 */
public final class ScheduleTimes {
  /** How late a missed occurrence may still be made up for, at most (and the retry limit). */
  public static final Duration MAX_GRACE = Duration.ofHours(24);

  private final ScheduleExpression expression;
  private final ZoneId zone;
  private final Instant startDate;
  private final Instant endDate;
  private final Instant rateAnchor;
  private final long windowMillis;
  private final long offsetSeed;

  private ScheduleTimes(ScheduleDefinition definition) {
    this.expression = ScheduleExpression.parse(definition.expression());
    this.zone = ZoneId.of(definition.timezone());
    this.startDate = definition.startDate();
    this.endDate = definition.endDate();
    this.rateAnchor = definition.startDate() != null ? definition.startDate() : definition.timingSince();
    this.windowMillis = definition.flexibleTimeWindow().window().toMillis();
    // String.hashCode is specified, so the offsets stay the same across restarts and nodes.
    this.offsetSeed = (definition.account() + "/" + definition.name()).hashCode();
  }

  public static ScheduleTimes of(ScheduleDefinition definition) {
    return new ScheduleTimes(definition);
  }

  /** The first occurrence at or after {@code time}, or null when there is none. */
  public Instant firstAtOrAfter(Instant time) {
    Instant candidate = switch (expression) {
      case ScheduleExpression.At at -> {
        // StartDate and EndDate do not apply to one-time schedules, as on EventBridge.
        Instant when = at.instant(zone);
        yield when.isBefore(time) ? null : when;
      }
      case ScheduleExpression.Rate rate -> {
        Instant from = later(time, rateAnchor);
        long periods = ceilDiv(Duration.between(rateAnchor, from).toMillis(), rate.period().toMillis());
        yield rateAnchor.plus(rate.period().multipliedBy(periods));
      }
      case ScheduleExpression.Cron cron -> cron.fields().atOrAfter(later(time, startDate), zone);
    };
    if (candidate == null || expression instanceof ScheduleExpression.At) {
      return candidate;
    }
    return endDate != null && candidate.isAfter(endDate) ? null : candidate;
  }

  /** The occurrence after {@code occurrence}, or null when it was the last. */
  public Instant after(Instant occurrence) {
    if (expression instanceof ScheduleExpression.At) {
      return null;
    }
    // Occurrences fall on whole milliseconds: start dates and creation times are kept to the millisecond.
    return firstAtOrAfter(occurrence.plusMillis(1));
  }

  /**
   * When an occurrence runs: its scheduled time plus an offset within the flexible window, drawn
   * at random but the same every time it is asked for the same occurrence.
   */
  public Instant runAt(Instant occurrence) {
    if (windowMillis == 0) {
      return occurrence;
    }
    long offset = new SplittableRandom(offsetSeed * 31 + occurrence.toEpochMilli()).nextLong(windowMillis);
    return occurrence.plusMillis(offset);
  }

  /**
   * How long after its scheduled time a missed occurrence is still made up for: the schedule's
   * period (for cron, the time to the occurrence after it), at most {@link #MAX_GRACE}; for a
   * one-time schedule {@link #MAX_GRACE}.
   */
  public Duration grace(Instant occurrence) {
    Duration period = switch (expression) {
      case ScheduleExpression.At at -> MAX_GRACE;
      case ScheduleExpression.Rate rate -> rate.period();
      case ScheduleExpression.Cron cron -> {
        Instant next = cron.fields().atOrAfter(occurrence.plusMillis(1), zone);
        yield next == null ? MAX_GRACE : Duration.between(occurrence, next);
      }
    };
    return period.compareTo(MAX_GRACE) > 0 ? MAX_GRACE : period;
  }

  private static Instant later(Instant a, Instant b) {
    return b != null && b.isAfter(a) ? b : a;
  }

  private static long ceilDiv(long dividend, long divisor) {
    return -Math.floorDiv(-dividend, divisor);
  }
}
