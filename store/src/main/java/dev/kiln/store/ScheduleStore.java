package dev.kiln.store;

import dev.kiln.core.schedules.Schedule;
import dev.kiln.core.schedules.ScheduleDefinition;
import dev.kiln.core.schedules.ScheduleHistory;
import dev.kiln.core.schedules.ScheduleState;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The tables of cron and rate schedules and when each last fired, inside one {@link StoreTransaction}.
 *
 * <p>Two writers share a schedule: its owner through the API replaces the definition, and the
 * scheduler moves it from occurrence to occurrence and records what it did. The scheduler's
 * {@link #advance} only applies while the schedule still waits for the occurrence it ran under the
 * timing it ran it by, so neither writer undoes the other.
 */
public interface ScheduleStore {

  /**
   * Stores a new schedule with timing revision 0.
   *
   * @throws DuplicateKeyException when the account has a schedule of that name
   * @throws IllegalStateException when the function it invokes does not exist
   */
  void insert(Schedule schedule);

  /** In a write transaction the schedule's row stays locked until commit. */
  Optional<Schedule> schedule(String account, String name);

  /**
   * An account's schedules ordered by name, after {@code afterName} (null: from the start), only
   * those whose name starts with {@code namePrefix} and that are in {@code state} (null: any).
   */
  List<Schedule> schedules(String account, String namePrefix, ScheduleState state, String afterName, int limit);

  /** Replaces the definition of a schedule whose timing is unchanged; what it waits for stays. */
  void updateDefinition(ScheduleDefinition definition);

  /**
   * Replaces the definition and what the schedule waits for: a new timing. The timing revision
   * changes and the retry count starts again; the history stays.
   */
  void reschedule(ScheduleDefinition definition, Instant nextOccurrence, Instant dueAt);

  /** Returns whether there was such a schedule. */
  boolean delete(String account, String name);

  /** Schedules due at or before {@code now}, earliest first. */
  List<Schedule> due(Instant now, int limit);

  /** When the earliest schedule is due, if any is. */
  Optional<Instant> nextDue();

  /**
   * Moves a schedule on from {@code occurrence} to {@code nextOccurrence} (null: nothing more to
   * run), or keeps it on {@code occurrence} with a later {@code dueAt} for a retry, and records
   * {@code history}. Does nothing and returns false when the schedule is gone, its timing revision
   * is no longer {@code timingRevision} or it no longer waits for {@code occurrence}.
   */
  boolean advance(String account, String name, long timingRevision, Instant occurrence, Instant nextOccurrence,
      Instant dueAt, int attempts, ScheduleHistory history);

  /** Records what the scheduler did, whatever the schedule waits for now. */
  void recordHistory(String account, String name, ScheduleHistory history);
}
