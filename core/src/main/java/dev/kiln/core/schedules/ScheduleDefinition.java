package dev.kiln.core.schedules;

import java.time.Instant;

/**
 * A schedule as its owner configured it, plus when it was created and changed.
 *
 * @param timezone IANA time zone (or UTC offset) the expression is evaluated in
 * @param startDate no occurrence before it; a rate schedule's first occurrence; null: none
 * @param endDate no occurrence after it; null: none
 * @param qualifier the version or alias the target names; null: the unqualified function
 * @param input the JSON payload (with context attributes still in it); null: the default event
 * @param timingSince when the current expression and start date were set: a rate schedule without
 *     a start date counts its periods from here
 */
public record ScheduleDefinition(
    String account,
    String name,
    String expression,
    String timezone,
    Instant startDate,
    Instant endDate,
    ScheduleState state,
    FlexibleTimeWindow flexibleTimeWindow,
    String functionName,
    String qualifier,
    String input,
    String description,
    Instant createdAt,
    Instant modifiedAt,
    Instant timingSince) {

  public static final String DEFAULT_TIMEZONE = "UTC";

  /** Whether {@code other} runs at exactly the same times (so pending occurrences stay valid). */
  public boolean sameTiming(ScheduleDefinition other) {
    return expression.equals(other.expression)
        && timezone.equals(other.timezone)
        && java.util.Objects.equals(startDate, other.startDate)
        && java.util.Objects.equals(endDate, other.endDate)
        && state == other.state
        && flexibleTimeWindow.equals(other.flexibleTimeWindow)
        && timingSince.equals(other.timingSince);
  }
}
