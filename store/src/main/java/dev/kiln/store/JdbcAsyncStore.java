package dev.kiln.store;

import dev.kiln.core.AsyncEvent;
import dev.kiln.core.EventInvokeConfig;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * {@link AsyncStore} on either engine. Times are epoch milliseconds, so "due now" is a plain
 * integer comparison on both.
 */
final class JdbcAsyncStore implements AsyncStore {
  private static final String EVENT_COLUMNS =
      "request_id, account, function_name, qualifier, payload, client_context, accepted_at, attempts, next_attempt_at";

  private final Sql sql;

  JdbcAsyncStore(Sql sql) {
    this.sql = sql;
  }

  @Override
  public boolean enqueue(AsyncEvent event, String claimedBy, Instant claimedUntil) {
    if ((claimedBy == null) != (claimedUntil == null)) {
      throw new IllegalArgumentException("claimedBy and claimedUntil go together");
    }
    // INSERT ... SELECT ... WHERE EXISTS instead of relying on the foreign key: a missing function is
    // an answer, not an error, and on PostgreSQL a failed statement would abort the whole transaction.
    // The casts give PostgreSQL the types of parameters that may be null.
    int inserted = sql.update(
        "enqueue async event",
        "INSERT INTO async_events (" + EVENT_COLUMNS + ", claimed_by, claimed_until)"
            + " SELECT ?, ?, ?, CAST(? AS text), ?, CAST(? AS text), ?, ?, ?, CAST(? AS text), CAST(? AS bigint)"
            + " WHERE EXISTS (SELECT 1 FROM functions WHERE account = ? AND name = ?)",
        event.requestId(),
        event.account(),
        event.functionName(),
        event.qualifier(),
        event.payload(),
        event.clientContext(),
        event.acceptedAt().toEpochMilli(),
        event.attempts(),
        event.nextAttemptAt().toEpochMilli(),
        claimedBy,
        claimedUntil == null ? null : claimedUntil.toEpochMilli(),
        event.account(),
        event.functionName());
    return inserted == 1;
  }

  @Override
  public List<AsyncEvent> claimDue(Instant now, String claimedBy, Instant claimedUntil, int limit,
      Collection<FunctionKey> excluded) {
    sql.requireWritable();
    Sql.requirePositive(limit);
    long nowMillis = now.toEpochMilli();
    var args = new ArrayList<Object>(List.of(nowMillis, nowMillis));
    var exclusions = new StringBuilder();
    for (var function : excluded) {
      exclusions.append(" AND NOT (account = ? AND function_name = ?)");
      args.add(function.account());
      args.add(function.functionName());
    }
    args.add(limit);
    // SQLite runs one writer at a time, so the rows read here cannot be claimed by anyone else before
    // the update below; on PostgreSQL, SKIP LOCKED lets concurrent claimers take different rows.
    String lock = sql.dialect.lockForUpdate().isEmpty() ? "" : sql.dialect.lockForUpdate() + " SKIP LOCKED";
    var events = sql.query(
        "find due async events",
        "SELECT " + EVENT_COLUMNS + " FROM async_events"
            + " WHERE next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)" + exclusions
            + " ORDER BY next_attempt_at LIMIT ?" + lock,
        JdbcAsyncStore::eventRow,
        args.toArray());
    if (events.isEmpty()) {
      return events;
    }
    var claim = new ArrayList<Object>(List.of(claimedBy, claimedUntil.toEpochMilli()));
    events.forEach(e -> claim.add(e.requestId()));
    sql.update(
        "claim async events",
        "UPDATE async_events SET claimed_by = ?, claimed_until = ? WHERE request_id IN ("
            + String.join(", ", Collections.nCopies(events.size(), "?")) + ")",
        claim.toArray());
    return events;
  }

  @Override
  public boolean remove(String requestId) {
    return sql.update("remove async event", "DELETE FROM async_events WHERE request_id = ?", requestId) == 1;
  }

  @Override
  public void reschedule(String requestId, int attempts, Instant nextAttemptAt) {
    sql.update(
        "reschedule async event",
        "UPDATE async_events SET attempts = ?, next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL"
            + " WHERE request_id = ?",
        attempts,
        nextAttemptAt.toEpochMilli(),
        requestId);
  }

  @Override
  public int releaseClaims(String claimedBy) {
    return sql.update(
        "release async event claims",
        "UPDATE async_events SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?",
        claimedBy);
  }

  @Override
  public long queued() {
    return sql.queryOne("count async events", "SELECT COUNT(*) FROM async_events", rs -> rs.getLong(1)).orElse(0L);
  }

  private static AsyncEvent eventRow(ResultSet rs) throws SQLException {
    return new AsyncEvent(
        rs.getString(1),
        rs.getString(2),
        rs.getString(3),
        rs.getString(4),
        rs.getBytes(5),
        rs.getString(6),
        Instant.ofEpochMilli(rs.getLong(7)),
        rs.getInt(8),
        Instant.ofEpochMilli(rs.getLong(9)));
  }

  // ---- event-invoke configurations

  @Override
  public Optional<EventInvokeConfig> config(String account, String functionName, String qualifier) {
    return sql.queryOne(
        "look up event invoke config",
        "SELECT config FROM event_invoke_configs WHERE account = ? AND function_name = ? AND qualifier = ?",
        rs -> Json.read(rs.getString(1), EventInvokeConfig.class),
        account,
        functionName,
        qualifier);
  }

  @Override
  public void putConfig(String account, String functionName, EventInvokeConfig config) {
    sql.update(
        "put event invoke config",
        "INSERT INTO event_invoke_configs (account, function_name, qualifier, config) VALUES (?, ?, ?, "
            + sql.dialect.jsonParam() + ") ON CONFLICT (account, function_name, qualifier) DO UPDATE SET"
            + " config = excluded.config",
        account,
        functionName,
        config.qualifier(),
        Json.write(config));
  }

  @Override
  public boolean deleteConfig(String account, String functionName, String qualifier) {
    return sql.update(
            "delete event invoke config",
            "DELETE FROM event_invoke_configs WHERE account = ? AND function_name = ? AND qualifier = ?",
            account,
            functionName,
            qualifier)
        == 1;
  }

  @Override
  public List<EventInvokeConfig> configs(String account, String functionName, String afterQualifier, int limit) {
    Sql.requirePositive(limit);
    String statement =
        "SELECT config FROM event_invoke_configs WHERE account = ? AND function_name = ?"
            + (afterQualifier == null ? "" : " AND qualifier > ?")
            + " ORDER BY qualifier LIMIT ?";
    Object[] args = afterQualifier == null
        ? new Object[] {account, functionName, limit}
        : new Object[] {account, functionName, afterQualifier, limit};
    return sql.query("list event invoke configs", statement, rs -> Json.read(rs.getString(1), EventInvokeConfig.class),
        args);
  }
}
