package dev.kiln.store;

/** {@link ScheduleStore} on either engine. */
final class JdbcScheduleStore implements ScheduleStore {
  private final Sql sql;

  JdbcScheduleStore(Sql sql) {
    this.sql = sql;
  }
}
