package dev.kiln.store;

import dev.kiln.core.EventSourceMapping;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link EventSourceMappingStore} on either engine. */
final class JdbcEventSourceMappingStore implements EventSourceMappingStore {
  private final Sql sql;

  JdbcEventSourceMappingStore(Sql sql) {
    this.sql = sql;
  }

  @Override
  public void insert(EventSourceMapping mapping) {
    // ON CONFLICT DO NOTHING rather than a caught violation: on PostgreSQL a failed statement aborts
    // the whole transaction, and the caller turns the duplicate into its own error.
    int inserted = sql.update(
        "insert event-source mapping",
        "INSERT INTO event_source_mappings"
            + " (uuid, account, function_name, qualifier, source_key, event_source_arn, doc)"
            + " VALUES (?, ?, ?, ?, ?, ?, " + sql.dialect.jsonParam() + ") ON CONFLICT DO NOTHING",
        mapping.uuid(),
        mapping.account(),
        mapping.functionName(),
        qualifierKey(mapping),
        mapping.sourceKey(),
        mapping.eventSourceArn(),
        Json.write(mapping));
    if (inserted == 0) {
      throw new DuplicateKeyException("event-source mapping " + mapping.uuid() + " of " + mapping.functionName()
          + " and " + mapping.sourceKey() + " exists already", null);
    }
  }

  @Override
  public Optional<EventSourceMapping> mapping(String account, String uuid) {
    return sql.queryOne(
        "look up event-source mapping",
        "SELECT doc FROM event_source_mappings WHERE account = ? AND uuid = ?"
            + (sql.writable() ? sql.dialect.lockForUpdate() : ""),
        rs -> Json.read(rs.getString(1), EventSourceMapping.class),
        account,
        uuid);
  }

  @Override
  public void update(EventSourceMapping mapping) {
    if (conflicts(mapping)) {
      throw new DuplicateKeyException("function " + mapping.functionName() + " already has a mapping of "
          + mapping.sourceKey(), null);
    }
    int updated = sql.update(
        "update event-source mapping",
        "UPDATE event_source_mappings SET function_name = ?, qualifier = ?, source_key = ?, event_source_arn = ?,"
            + " doc = " + sql.dialect.jsonParam() + " WHERE account = ? AND uuid = ?",
        mapping.functionName(),
        qualifierKey(mapping),
        mapping.sourceKey(),
        mapping.eventSourceArn(),
        Json.write(mapping),
        mapping.account(),
        mapping.uuid());
    if (updated == 0) {
      throw new IllegalStateException("no event-source mapping " + mapping.uuid() + " to update");
    }
  }

  /** Checked first for the same reason insert uses ON CONFLICT: a violation would abort a PostgreSQL transaction. */
  private boolean conflicts(EventSourceMapping mapping) {
    return sql.queryOne(
            "check event-source mapping key",
            "SELECT 1 FROM event_source_mappings WHERE account = ? AND function_name = ? AND qualifier = ?"
                + " AND source_key = ? AND uuid <> ?",
            rs -> Boolean.TRUE,
            mapping.account(),
            mapping.functionName(),
            qualifierKey(mapping),
            mapping.sourceKey(),
            mapping.uuid())
        .isPresent();
  }

  @Override
  public boolean delete(String account, String uuid) {
    return sql.update("delete event-source mapping",
        "DELETE FROM event_source_mappings WHERE account = ? AND uuid = ?", account, uuid) > 0;
  }

  @Override
  public List<EventSourceMapping> mappings(
      String account, String functionName, String qualifier, String eventSourceArn, String afterUuid, int limit) {
    Sql.requirePositive(limit);
    var where = new StringBuilder("account = ?");
    var args = new ArrayList<Object>();
    args.add(account);
    if (functionName != null) {
      where.append(" AND function_name = ?");
      args.add(functionName);
      if (qualifier != null) {
        where.append(" AND qualifier = ?");
        args.add(qualifier);
      }
    }
    if (eventSourceArn != null) {
      where.append(" AND event_source_arn = ?");
      args.add(eventSourceArn);
    }
    if (afterUuid != null) {
      where.append(" AND uuid > ?");
      args.add(afterUuid);
    }
    args.add(limit);
    return sql.query(
        "list event-source mappings",
        "SELECT doc FROM event_source_mappings WHERE " + where + " ORDER BY uuid LIMIT ?",
        rs -> Json.read(rs.getString(1), EventSourceMapping.class),
        args.toArray());
  }

  @Override
  public List<EventSourceMapping> all() {
    return sql.query(
        "list all event-source mappings",
        "SELECT doc FROM event_source_mappings ORDER BY uuid",
        rs -> Json.read(rs.getString(1), EventSourceMapping.class));
  }

  private static String qualifierKey(EventSourceMapping mapping) {
    return mapping.qualifier() == null ? "" : mapping.qualifier();
  }
}
