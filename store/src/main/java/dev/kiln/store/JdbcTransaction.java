package dev.kiln.store;

import dev.kiln.core.Alias;
import dev.kiln.core.Credential;
import dev.kiln.core.FunctionRecord;
import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.LastUpdateStatus;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One transaction on one JDBC connection; the same SQL serves both engines, with the few
 * differences taken from a {@link Dialect}. The owning store begins and ends the transaction; this
 * class only runs statements inside it and refuses to run any once {@link #end} was called, so a
 * transaction that escaped its {@code read}/{@code write} block fails loudly.
 */
final class JdbcTransaction implements StoreTransaction {
  private final Sql sql;
  private final Dialect dialect;

  JdbcTransaction(Connection connection, Dialect dialect, boolean writable) {
    this.sql = new Sql(connection, dialect, writable);
    this.dialect = dialect;
  }

  void end() {
    sql.end();
  }

  // ---- feature sections: each keeps its own tables in its own class

  @Override
  public AsyncStore async() {
    return new JdbcAsyncStore(sql);
  }

  @Override
  public EventSourceMappingStore eventSourceMappings() {
    return new JdbcEventSourceMappingStore(sql);
  }

  @Override
  public ScheduleStore schedules() {
    return new JdbcScheduleStore(sql);
  }

  @Override
  public FunctionUrlStore functionUrls() {
    return new JdbcFunctionUrlStore(sql);
  }

  @Override
  public BatchStore batches() {
    return new JdbcBatchStore(sql);
  }

  // ---- credentials

  @Override
  public Optional<Credential> credential(String accessKeyId) {
    return sql.queryOne(
        "look up credential",
        "SELECT access_key_id, secret_access_key, account FROM credentials WHERE access_key_id = ?",
        JdbcTransaction::credentialRow,
        accessKeyId);
  }

  @Override
  public void insertCredential(Credential credential) {
    // ON CONFLICT DO NOTHING instead of catching the violation: on PostgreSQL a failed statement
    // aborts the whole transaction, this way the caller may catch the exception and go on.
    int inserted =
        sql.update(
            "insert credential",
            "INSERT INTO credentials (access_key_id, secret_access_key, account, created_at)"
                + " VALUES (?, ?, ?, " + dialect.timestampParam() + ") ON CONFLICT DO NOTHING",
            credential.accessKeyId(),
            credential.secretAccessKey(),
            credential.account(),
            Instant.now().toString());
    if (inserted == 0) {
      throw new DuplicateKeyException("access key " + credential.accessKeyId() + " exists already", null);
    }
  }

  @Override
  public List<Credential> credentials(String account) {
    return sql.query(
        "list credentials",
        "SELECT access_key_id, secret_access_key, account FROM credentials WHERE account = ? ORDER BY seq",
        JdbcTransaction::credentialRow,
        account);
  }

  @Override
  public List<String> accounts() {
    return sql.query("list accounts", "SELECT DISTINCT account FROM credentials ORDER BY account", rs -> rs.getString(1));
  }

  private static Credential credentialRow(ResultSet rs) throws SQLException {
    return new Credential(rs.getString(1), rs.getString(2), rs.getString(3));
  }

  // ---- functions

  @Override
  public Optional<FunctionRecord> function(String account, String name) {
    return sql.queryOne(
        "look up function",
        "SELECT doc FROM functions WHERE account = ? AND name = ?" + (sql.writable() ? dialect.lockForUpdate() : ""),
        rs -> Json.read(rs.getString(1), FunctionRecord.class),
        account,
        name);
  }

  @Override
  public void insertFunction(FunctionRecord function) {
    int inserted =
        sql.update(
            "insert function",
            "INSERT INTO functions (account, name, last_published_version, created_at, doc) VALUES (?, ?, ?, "
                + dialect.timestampParam() + ", " + dialect.jsonParam() + ") ON CONFLICT DO NOTHING",
            function.account(),
            function.name(),
            function.lastPublishedVersion(),
            createdAt(function),
            Json.write(function));
    if (inserted == 0) {
      throw new DuplicateKeyException("function " + function.account() + ":" + function.name() + " exists already", null);
    }
  }

  /** Updating a function that does not exist is a caller bug: {@link IllegalStateException}. */
  @Override
  public void updateFunction(FunctionRecord function) {
    int updated =
        sql.update(
            "update function",
            "UPDATE functions SET last_published_version = ?, created_at = " + dialect.timestampParam()
                + ", doc = " + dialect.jsonParam() + " WHERE account = ? AND name = ?",
            function.lastPublishedVersion(),
            createdAt(function),
            Json.write(function),
            function.account(),
            function.name());
    if (updated == 0) {
      throw new IllegalStateException("no function " + function.account() + ":" + function.name() + " to update");
    }
  }

  private static String createdAt(FunctionRecord function) {
    if (function.createdAt() == null) {
      throw new IllegalArgumentException("function " + function.name() + " has no createdAt");
    }
    return function.createdAt().toString();
  }

  @Override
  public void deleteFunction(String account, String name) {
    // Versions and aliases go with it through ON DELETE CASCADE.
    sql.update("delete function", "DELETE FROM functions WHERE account = ? AND name = ?", account, name);
  }

  @Override
  public List<FunctionRecord> functions(String account, String afterName, int limit) {
    Sql.requirePositive(limit);
    String statement =
        "SELECT doc FROM functions WHERE account = ?"
            + (afterName == null ? "" : " AND name > ?")
            + " ORDER BY name LIMIT ?";
    Object[] args = afterName == null ? new Object[] {account, limit} : new Object[] {account, afterName, limit};
    return sql.query("list functions", statement, rs -> Json.read(rs.getString(1), FunctionRecord.class), args);
  }

  @Override
  public long functionCount(String account) {
    return sql.queryOne("count functions", "SELECT COUNT(*) FROM functions WHERE account = ?", rs -> rs.getLong(1), account)
        .orElse(0L);
  }

  // ---- versions

  @Override
  public Optional<FunctionVersion> version(String account, String functionName, String version) {
    return sql.queryOne(
        "look up version",
        "SELECT config FROM function_versions WHERE account = ? AND function_name = ? AND version = ?",
        rs -> Json.read(rs.getString(1), FunctionVersion.class),
        account,
        functionName,
        version);
  }

  /** A version whose function does not exist is a caller bug: {@link IllegalStateException}. */
  @Override
  public void putVersion(FunctionVersion version) {
    var code = version.code();
    sql.update(
        "put version",
        "INSERT INTO function_versions"
            + " (account, function_name, version, version_order, code_sha256, code_size, state, last_update_status,"
            + " config) VALUES (?, ?, ?, ?, ?, ?, ?, ?, " + dialect.jsonParam() + ")"
            + " ON CONFLICT (account, function_name, version) DO UPDATE SET"
            + " code_sha256 = excluded.code_sha256, code_size = excluded.code_size, state = excluded.state,"
            + " last_update_status = excluded.last_update_status, config = excluded.config",
        version.account(),
        version.functionName(),
        version.version(),
        versionOrder(version.version()),
        code == null ? null : code.sha256Hex(),
        code == null ? 0L : code.size(),
        String.valueOf(version.state()),
        String.valueOf(version.lastUpdateStatus()),
        Json.write(version));
  }

  @Override
  public void deleteVersion(String account, String functionName, String version) {
    sql.update(
        "delete version",
        "DELETE FROM function_versions WHERE account = ? AND function_name = ? AND version = ?",
        account,
        functionName,
        version);
  }

  /**
   * @throws IllegalArgumentException when {@code afterVersion} is neither {@code $LATEST} nor a
   *     version number (a marker the caller did not get from this method)
   */
  @Override
  public List<FunctionVersion> versions(String account, String functionName, String afterVersion, int limit) {
    Sql.requirePositive(limit);
    long after = afterVersion == null ? -1 : versionOrder(afterVersion);
    return sql.query(
        "list versions",
        "SELECT config FROM function_versions WHERE account = ? AND function_name = ? AND version_order > ?"
            + " ORDER BY version_order LIMIT ?",
        rs -> Json.read(rs.getString(1), FunctionVersion.class),
        account,
        functionName,
        after,
        limit);
  }

  /** $LATEST sorts first (0), a published version by its number; anything else is not a version. */
  static long versionOrder(String version) {
    if (FunctionVersion.LATEST.equals(version)) {
      return 0;
    }
    // Only the canonical spelling: "01" would otherwise collide with "1" in the ordering.
    if (version != null && version.matches("[1-9][0-9]{0,17}")) {
      return Long.parseLong(version);
    }
    throw new IllegalArgumentException("not a function version: " + version);
  }

  @Override
  public long totalCodeSize(String account) {
    return sql.queryOne(
            "sum code sizes",
            "SELECT COALESCE(SUM(code_size), 0) FROM function_versions WHERE account = ?",
            rs -> rs.getLong(1),
            account)
        .orElse(0L);
  }

  /** In a stable order (account, function, version) so a resumed activation is repeatable. */
  @Override
  public List<FunctionVersion> versionsAwaitingActivation() {
    return sql.query(
        "list versions awaiting activation",
        "SELECT config FROM function_versions"
            + " WHERE state = '" + FunctionState.Pending + "' OR last_update_status = '" + LastUpdateStatus.InProgress
            + "' ORDER BY account, function_name, version_order",
        rs -> Json.read(rs.getString(1), FunctionVersion.class));
  }

  @Override
  public boolean codeInUse(String sha256Hex) {
    return sql.queryOne(
            "check code use",
            "SELECT 1 FROM function_versions WHERE code_sha256 = ? LIMIT 1",
            rs -> Boolean.TRUE,
            sha256Hex)
        .isPresent();
  }

  // ---- aliases

  @Override
  public Optional<Alias> alias(String account, String functionName, String alias) {
    return sql.queryOne(
        "look up alias",
        "SELECT config FROM aliases WHERE account = ? AND function_name = ? AND name = ?",
        rs -> Json.read(rs.getString(1), Alias.class),
        account,
        functionName,
        alias);
  }

  /** An alias whose function does not exist is a caller bug: {@link IllegalStateException}. */
  @Override
  public void putAlias(Alias alias) {
    sql.update(
        "put alias",
        "INSERT INTO aliases (account, function_name, name, function_version, config)"
            + " VALUES (?, ?, ?, ?, " + dialect.jsonParam() + ")"
            + " ON CONFLICT (account, function_name, name) DO UPDATE SET"
            + " function_version = excluded.function_version, config = excluded.config",
        alias.account(),
        alias.functionName(),
        alias.name(),
        alias.functionVersion(),
        Json.write(alias));
  }

  @Override
  public void deleteAlias(String account, String functionName, String alias) {
    sql.update(
        "delete alias",
        "DELETE FROM aliases WHERE account = ? AND function_name = ? AND name = ?",
        account,
        functionName,
        alias);
  }

  @Override
  public List<Alias> aliases(String account, String functionName) {
    return sql.query(
        "list aliases",
        "SELECT config FROM aliases WHERE account = ? AND function_name = ? ORDER BY name",
        rs -> Json.read(rs.getString(1), Alias.class),
        account,
        functionName);
  }
}
