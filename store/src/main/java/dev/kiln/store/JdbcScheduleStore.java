package dev.kiln.store;

import dev.kiln.core.schedules.Schedule;
import dev.kiln.core.schedules.ScheduleDefinition;
import dev.kiln.core.schedules.ScheduleHistory;
import dev.kiln.core.schedules.ScheduleState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link ScheduleStore} on either engine. */
final class JdbcScheduleStore implements ScheduleStore {
  private static final String COLUMNS =
      "SELECT definition, next_occurrence_ms, due_ms, attempts, history, timing_revision FROM schedules";

  private final Sql sql;

  JdbcScheduleStore(Sql sql) {
    this.sql = sql;
  }

  @Override
  public void insert(Schedule schedule) {
    var definition = schedule.definition();
    // ON CONFLICT DO NOTHING rather than a failing statement: on PostgreSQL that would abort the
    // whole transaction, and the caller may want to go on after a DuplicateKeyException.
    int inserted = sql.update(
        "insert schedule",
        "INSERT INTO schedules (account, name, function_name, state, definition, timing_revision,"
            + " next_occurrence_ms, due_ms, attempts, history) VALUES (?, ?, ?, ?, " + sql.dialect.jsonParam()
            + ", 0, ?, ?, ?, " + sql.dialect.jsonParam() + ") ON CONFLICT DO NOTHING",
        definition.account(),
        definition.name(),
        definition.functionName(),
        definition.state().name(),
        Json.write(definition),
        millis(schedule.nextOccurrence()),
        millis(schedule.dueAt()),
        schedule.attempts(),
        Json.write(schedule.history()));
    if (inserted == 0) {
      throw new DuplicateKeyException(
          "schedule " + definition.account() + ":" + definition.name() + " exists already", null);
    }
  }

  @Override
  public Optional<Schedule> schedule(String account, String name) {
    return sql.queryOne(
        "look up schedule",
        COLUMNS + " WHERE account = ? AND name = ?" + (sql.writable() ? sql.dialect.lockForUpdate() : ""),
        JdbcScheduleStore::row,
        account,
        name);
  }

  @Override
  public List<Schedule> schedules(String account, String namePrefix, ScheduleState state, String afterName,
      int limit) {
    Sql.requirePositive(limit);
    var where = new StringBuilder(" WHERE account = ?");
    var args = new ArrayList<Object>(List.of(account));
    if (namePrefix != null && !namePrefix.isEmpty()) {
      where.append(" AND substr(name, 1, ?) = ?");
      args.add(namePrefix.length());
      args.add(namePrefix);
    }
    if (state != null) {
      where.append(" AND state = ?");
      args.add(state.name());
    }
    if (afterName != null) {
      where.append(" AND name > ?");
      args.add(afterName);
    }
    args.add(limit);
    return sql.query("list schedules", COLUMNS + where + " ORDER BY name LIMIT ?", JdbcScheduleStore::row,
        args.toArray());
  }

  @Override
  public void updateDefinition(ScheduleDefinition definition) {
    int updated = sql.update(
        "update schedule",
        "UPDATE schedules SET function_name = ?, state = ?, definition = " + sql.dialect.jsonParam()
            + " WHERE account = ? AND name = ?",
        definition.functionName(),
        definition.state().name(),
        Json.write(definition),
        definition.account(),
        definition.name());
    requireUpdated(updated, definition);
  }

  @Override
  public void reschedule(ScheduleDefinition definition, Instant nextOccurrence, Instant dueAt) {
    int updated = sql.update(
        "reschedule schedule",
        "UPDATE schedules SET function_name = ?, state = ?, definition = " + sql.dialect.jsonParam()
            + ", timing_revision = timing_revision + 1, next_occurrence_ms = ?, due_ms = ?, attempts = 0"
            + " WHERE account = ? AND name = ?",
        definition.functionName(),
        definition.state().name(),
        Json.write(definition),
        millis(nextOccurrence),
        millis(dueAt),
        definition.account(),
        definition.name());
    requireUpdated(updated, definition);
  }

  @Override
  public boolean delete(String account, String name) {
    return sql.update("delete schedule", "DELETE FROM schedules WHERE account = ? AND name = ?", account, name) > 0;
  }

  @Override
  public List<Schedule> due(Instant now, int limit) {
    Sql.requirePositive(limit);
    return sql.query(
        "list due schedules",
        COLUMNS + " WHERE due_ms IS NOT NULL AND due_ms <= ? ORDER BY due_ms, account, name LIMIT ?",
        JdbcScheduleStore::row,
        now.toEpochMilli(),
        limit);
  }

  @Override
  public Optional<Instant> nextDue() {
    // MIN over no rows is one row holding NULL.
    var earliest = sql.query(
        "find the next due schedule",
        "SELECT MIN(due_ms) FROM schedules WHERE due_ms IS NOT NULL",
        rs -> instant(rs, 1));
    return earliest.isEmpty() ? Optional.empty() : Optional.ofNullable(earliest.getFirst());
  }

  @Override
  public boolean advance(String account, String name, long timingRevision, Instant occurrence,
      Instant nextOccurrence, Instant dueAt, int attempts, ScheduleHistory history) {
    return sql.update(
        "advance schedule",
        "UPDATE schedules SET next_occurrence_ms = ?, due_ms = ?, attempts = ?, history = "
            + sql.dialect.jsonParam()
            + " WHERE account = ? AND name = ? AND timing_revision = ? AND next_occurrence_ms = ?",
        millis(nextOccurrence),
        millis(dueAt),
        attempts,
        Json.write(history),
        account,
        name,
        timingRevision,
        occurrence.toEpochMilli()) > 0;
  }

  @Override
  public void recordHistory(String account, String name, ScheduleHistory history) {
    sql.update(
        "record schedule history",
        "UPDATE schedules SET history = " + sql.dialect.jsonParam() + " WHERE account = ? AND name = ?",
        Json.write(history),
        account,
        name);
  }

  private static void requireUpdated(int updated, ScheduleDefinition definition) {
    if (updated == 0) {
      throw new IllegalStateException("no schedule " + definition.account() + ":" + definition.name() + " to update");
    }
  }

  private static Schedule row(ResultSet rs) throws SQLException {
    return new Schedule(
        Json.read(rs.getString(1), ScheduleDefinition.class),
        instant(rs, 2),
        instant(rs, 3),
        rs.getInt(4),
        Json.read(rs.getString(5), ScheduleHistory.class),
        rs.getLong(6));
  }

  private static Instant instant(ResultSet rs, int column) throws SQLException {
    long millis = rs.getLong(column);
    return rs.wasNull() ? null : Instant.ofEpochMilli(millis);
  }

  private static Long millis(Instant instant) {
    return instant == null ? null : instant.toEpochMilli();
  }
}
