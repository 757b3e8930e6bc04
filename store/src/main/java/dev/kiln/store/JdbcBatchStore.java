package dev.kiln.store;

import dev.kiln.core.batch.BatchFailure;
import dev.kiln.core.batch.BatchItem;
import dev.kiln.core.batch.BatchItemCounts;
import dev.kiln.core.batch.BatchJob;
import dev.kiln.core.batch.BatchJobState;
import dev.kiln.core.batch.BatchOutcome;
import dev.kiln.core.batch.ClaimedBatchItem;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** {@link BatchStore} on either engine. */
final class JdbcBatchStore implements BatchStore {
  /**
   * Rows per multi-row statement: many rows per round trip, far below SQLite's 32,766 and
   * PostgreSQL's 65,535 bound parameters.
   */
  private static final int ROWS_PER_STATEMENT = 200;

  private static final String PENDING = "Pending";
  private static final String RUNNING = "Running";
  private static final String SUCCEEDED = "Succeeded";
  private static final String FAILED = "Failed";

  private final Sql sql;

  JdbcBatchStore(Sql sql) {
    this.sql = sql;
  }

  // ---- jobs

  @Override
  public void insertJob(BatchJob job) {
    int inserted = sql.update(
        "insert batch job",
        "INSERT INTO batch_jobs (account, job_id, function_name, idempotency_key, state, created_at, doc)"
            + " VALUES (?, ?, ?, ?, ?, " + sql.dialect.timestampParam() + ", " + sql.dialect.jsonParam() + ")"
            + " ON CONFLICT DO NOTHING",
        job.account(), job.jobId(), job.functionName(), job.idempotencyKey(), job.state().name(),
        job.createdAt().toString(), Json.write(job));
    if (inserted == 0) {
      throw new DuplicateKeyException("batch job " + job.jobId() + " or idempotency key " + job.idempotencyKey()
          + " exists already in account " + job.account(), null);
    }
  }

  @Override
  public Optional<BatchJob> job(String account, String jobId) {
    return sql.queryOne(
        "look up batch job",
        "SELECT doc FROM batch_jobs WHERE account = ? AND job_id = ?"
            + (sql.writable() ? sql.dialect.lockForUpdate() : ""),
        JdbcBatchStore::jobRow, account, jobId);
  }

  @Override
  public Optional<BatchJob> jobByIdempotencyKey(String account, String idempotencyKey) {
    return sql.queryOne(
        "look up batch job by idempotency key",
        "SELECT doc FROM batch_jobs WHERE account = ? AND idempotency_key = ?",
        JdbcBatchStore::jobRow, account, idempotencyKey);
  }

  @Override
  public List<BatchJob> jobs(String account, String functionName, int limit) {
    Sql.requirePositive(limit);
    String statement = "SELECT doc FROM batch_jobs WHERE account = ?"
        + (functionName == null ? "" : " AND function_name = ?") + " ORDER BY created_at, job_id LIMIT ?";
    Object[] args = functionName == null ? new Object[] {account, limit} : new Object[] {account, functionName, limit};
    return sql.query("list batch jobs", statement, JdbcBatchStore::jobRow, args);
  }

  @Override
  public List<BatchJob> jobsInState(BatchJobState state) {
    return sql.query(
        "list batch jobs in state",
        "SELECT doc FROM batch_jobs WHERE state = ? ORDER BY account, created_at, job_id",
        JdbcBatchStore::jobRow, state.name());
  }

  @Override
  public void updateJob(BatchJob job) {
    int updated = sql.update(
        "update batch job",
        "UPDATE batch_jobs SET state = ?, doc = " + sql.dialect.jsonParam() + " WHERE account = ? AND job_id = ?",
        job.state().name(), Json.write(job), job.account(), job.jobId());
    if (updated == 0) {
      throw new IllegalStateException("no batch job " + job.account() + ":" + job.jobId() + " to update");
    }
  }

  @Override
  public void deleteJob(String account, String jobId) {
    // Items go with it through ON DELETE CASCADE.
    sql.update("delete batch job", "DELETE FROM batch_jobs WHERE account = ? AND job_id = ?", account, jobId);
  }

  private static BatchJob jobRow(ResultSet rs) throws SQLException {
    return Json.read(rs.getString(1), BatchJob.class);
  }

  // ---- items

  @Override
  public int insertItems(String account, String jobId, List<BatchItem> items) {
    int inserted = 0;
    for (int from = 0; from < items.size(); from += ROWS_PER_STATEMENT) {
      var chunk = items.subList(from, Math.min(items.size(), from + ROWS_PER_STATEMENT));
      var statement = new StringBuilder(
          "INSERT INTO batch_items (account, job_id, idx, line, path, payload, status, attempts) VALUES ");
      var args = new ArrayList<>(chunk.size() * 6);
      for (int i = 0; i < chunk.size(); i++) {
        var item = chunk.get(i);
        statement.append(i == 0 ? "" : ", ").append("(?, ?, ?, ?, ?, ?, '" + PENDING + "', 0)");
        Collections.addAll(args, account, jobId, item.index(), item.line(), item.path(), item.payload());
      }
      statement.append(" ON CONFLICT DO NOTHING");
      inserted += sql.update("insert batch items", statement.toString(), args.toArray());
    }
    return inserted;
  }

  @Override
  public BatchItemCounts counts(String account, String jobId) {
    var byStatus = new TreeMap<String, Long>();
    sql.query(
        "count batch items",
        "SELECT status, COUNT(*) FROM batch_items WHERE account = ? AND job_id = ? GROUP BY status",
        rs -> byStatus.put(rs.getString(1), rs.getLong(2)), account, jobId);
    return new BatchItemCounts(byStatus.getOrDefault(PENDING, 0L), byStatus.getOrDefault(RUNNING, 0L),
        byStatus.getOrDefault(SUCCEEDED, 0L), byStatus.getOrDefault(FAILED, 0L));
  }

  @Override
  public List<ClaimedBatchItem> claim(String account, String jobId, int limit) {
    sql.requireWritable();
    Sql.requirePositive(limit);
    // SQLite holds the whole database for the writer, so only PostgreSQL needs row locks; SKIP
    // LOCKED lets concurrent claimers pass each other's rows instead of queueing on them. The rows
    // stay locked until commit, so selecting first and marking them after is safe. (A single
    // UPDATE ... WHERE idx IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED) marked far more than n
    // rows on PostgreSQL 15 in the contract tests.)
    String lock = sql.dialect.lockForUpdate().isEmpty() ? "" : " FOR UPDATE SKIP LOCKED";
    var claimed = sql.query(
        "claim batch items",
        "SELECT idx, payload, attempts FROM batch_items WHERE account = ? AND job_id = ? AND status = '" + PENDING
            + "' ORDER BY idx LIMIT ?" + lock,
        rs -> new ClaimedBatchItem(rs.getLong(1), rs.getBytes(2), rs.getInt(3)),
        account, jobId, limit);
    setStatus(account, jobId, claimed.stream().map(ClaimedBatchItem::index).toList(), PENDING,
        "status = '" + RUNNING + "'");
    return claimed;
  }

  @Override
  public void record(String account, String jobId, List<BatchOutcome> outcomes) {
    var succeededByAttempts = new TreeMap<Integer, List<Long>>();
    var releasedByAttempts = new TreeMap<Integer, List<Long>>();
    for (var outcome : outcomes) {
      switch (outcome) {
        case BatchOutcome.Succeeded s ->
            succeededByAttempts.computeIfAbsent(s.attempts(), a -> new ArrayList<>()).add(s.index());
        case BatchOutcome.Released r ->
            releasedByAttempts.computeIfAbsent(r.attempts(), a -> new ArrayList<>()).add(r.index());
        case BatchOutcome.Failed f -> sql.update(
            "record failed batch item",
            "UPDATE batch_items SET status = '" + FAILED + "', attempts = ?, error_type = ?, error_message = ?"
                + " WHERE account = ? AND job_id = ? AND idx = ? AND status = '" + RUNNING + "'",
            f.attempts(), f.errorType(), f.errorMessage(), account, jobId, f.index());
      }
    }
    for (Map.Entry<Integer, List<Long>> group : succeededByAttempts.entrySet()) {
      setStatus(account, jobId, group.getValue(), RUNNING,
          "status = '" + SUCCEEDED + "', attempts = " + group.getKey());
    }
    for (Map.Entry<Integer, List<Long>> group : releasedByAttempts.entrySet()) {
      setStatus(account, jobId, group.getValue(), RUNNING, "status = '" + PENDING + "', attempts = " + group.getKey());
    }
  }

  /** One statement per chunk of indexes: the common case (all succeeded at once) stays cheap. */
  private void setStatus(String account, String jobId, List<Long> indexes, String fromStatus, String assignments) {
    for (int from = 0; from < indexes.size(); from += ROWS_PER_STATEMENT) {
      var chunk = indexes.subList(from, Math.min(indexes.size(), from + ROWS_PER_STATEMENT));
      var args = new ArrayList<>(chunk.size() + 2);
      args.add(account);
      args.add(jobId);
      args.addAll(chunk);
      sql.update(
          "record batch items",
          "UPDATE batch_items SET " + assignments + " WHERE account = ? AND job_id = ? AND status = '" + fromStatus
              + "' AND idx IN (" + "?, ".repeat(chunk.size() - 1) + "?)",
          args.toArray());
    }
  }

  @Override
  public int requeueRunning(String account, String jobId) {
    return sql.update(
        "requeue running batch items",
        "UPDATE batch_items SET status = '" + PENDING + "' WHERE account = ? AND job_id = ? AND status = '"
            + RUNNING + "'",
        account, jobId);
  }

  @Override
  public List<BatchFailure> failures(String account, String jobId, long afterIndex, int limit) {
    Sql.requirePositive(limit);
    return sql.query(
        "list failed batch items",
        "SELECT idx, line, path, attempts, error_type, error_message FROM batch_items"
            + " WHERE account = ? AND job_id = ? AND status = '" + FAILED + "' AND idx > ? ORDER BY idx LIMIT ?",
        rs -> {
          // getObject: SQLite's driver does not report a NULL through wasNull() after getInt().
          var line = (Number) rs.getObject(2);
          return new BatchFailure(rs.getLong(1), line == null ? null : line.intValue(), rs.getString(3),
              rs.getInt(4), rs.getString(5), rs.getString(6));
        },
        account, jobId, afterIndex, limit);
  }
}
