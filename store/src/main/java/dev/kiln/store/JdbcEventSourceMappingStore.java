package dev.kiln.store;

/** {@link EventSourceMappingStore} on either engine. */
final class JdbcEventSourceMappingStore implements EventSourceMappingStore {
  private final Sql sql;

  JdbcEventSourceMappingStore(Sql sql) {
    this.sql = sql;
  }
}
