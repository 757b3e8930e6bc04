package dev.kiln.store;

/** {@link AsyncStore} on either engine. */
final class JdbcAsyncStore implements AsyncStore {
  private final Sql sql;

  JdbcAsyncStore(Sql sql) {
    this.sql = sql;
  }
}
