package dev.kiln.core.schedules;

import java.time.Instant;

/**
 * A stored schedule: its definition, the occurrence it waits for and what it has done.
 *
 * @param nextOccurrence the scheduled time of the next occurrence to run, or null when nothing more
 *     will run (disabled, past its end date, a one-time schedule that ran)
 * @param dueAt when the scheduler acts on it: the scheduled time plus the flexible-window offset, or
 *     the time of the next retry; null with {@code nextOccurrence}
 * @param attempts failed attempts of {@code nextOccurrence} so far
 * @param timingRevision changes whenever the definition's timing changes, so the scheduler never
 *     advances a schedule by a definition that has been replaced meanwhile
 */
public record Schedule(ScheduleDefinition definition, Instant nextOccurrence, Instant dueAt, int attempts,
    ScheduleHistory history, long timingRevision) {}
