package dev.kiln.store;

/** {@link FunctionUrlStore} on either engine. */
final class JdbcFunctionUrlStore implements FunctionUrlStore {
  private final Sql sql;

  JdbcFunctionUrlStore(Sql sql) {
    this.sql = sql;
  }
}
