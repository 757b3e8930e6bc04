package dev.kiln.store;

/** {@link BatchStore} on either engine. */
final class JdbcBatchStore implements BatchStore {
  private final Sql sql;

  JdbcBatchStore(Sql sql) {
    this.sql = sql;
  }
}
