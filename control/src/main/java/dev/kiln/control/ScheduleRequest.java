package dev.kiln.control;

import java.time.Instant;

/**
 * A CreateSchedule or UpdateSchedule request as the client sent it; {@link Schedules} checks every
 * member. An update replaces the whole schedule, so members left out take their defaults.
 *
 * @param state ENABLED (default) or DISABLED
 * @param flexibleMode OFF (default) or FLEXIBLE
 * @param targetArn the function: name, partial ARN or ARN, with an optional :version or :alias
 * @param input JSON payload, may hold EventBridge Scheduler's context attributes; null for the
 *     default scheduled event
 */
public record ScheduleRequest(
    String name,
    String expression,
    String timezone,
    Instant startDate,
    Instant endDate,
    String state,
    String flexibleMode,
    Integer maximumWindowInMinutes,
    String targetArn,
    String input,
    String description) {}
