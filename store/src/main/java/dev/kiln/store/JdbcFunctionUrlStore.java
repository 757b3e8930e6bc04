package dev.kiln.store;

import dev.kiln.core.FunctionUrlConfig;
import java.util.List;
import java.util.Optional;

/** {@link FunctionUrlStore} on either engine. */
final class JdbcFunctionUrlStore implements FunctionUrlStore {
  private final Sql sql;

  JdbcFunctionUrlStore(Sql sql) {
    this.sql = sql;
  }

  @Override
  public Optional<FunctionUrlConfig> functionUrl(String account, String functionName, String qualifier) {
    return sql.queryOne(
        "look up function URL",
        "SELECT doc FROM function_urls WHERE account = ? AND function_name = ? AND qualifier = ?",
        rs -> Json.read(rs.getString(1), FunctionUrlConfig.class),
        account,
        functionName,
        qualifier);
  }

  @Override
  public Optional<FunctionUrlConfig> functionUrlById(String urlId) {
    return sql.queryOne(
        "look up function URL by id",
        "SELECT doc FROM function_urls WHERE url_id = ?",
        rs -> Json.read(rs.getString(1), FunctionUrlConfig.class),
        urlId);
  }

  @Override
  public boolean insertFunctionUrl(FunctionUrlConfig config) {
    if (functionUrl(config.account(), config.functionName(), config.qualifier()).isPresent()) {
      throw new DuplicateKeyException("function URL " + config.account() + ":" + config.functionName() + ":"
          + config.qualifier() + " exists already", null);
    }
    // Only the url id can still conflict here. ON CONFLICT DO NOTHING instead of catching the
    // violation: on PostgreSQL a failed statement would abort the whole transaction.
    int inserted = sql.update(
        "insert function URL",
        "INSERT INTO function_urls (account, function_name, qualifier, url_id, doc) VALUES (?, ?, ?, ?, "
            + sql.dialect.jsonParam() + ") ON CONFLICT DO NOTHING",
        config.account(),
        config.functionName(),
        config.qualifier(),
        config.urlId(),
        Json.write(config));
    return inserted == 1;
  }

  @Override
  public void updateFunctionUrl(FunctionUrlConfig config) {
    int updated = sql.update(
        "update function URL",
        "UPDATE function_urls SET doc = " + sql.dialect.jsonParam()
            + " WHERE account = ? AND function_name = ? AND qualifier = ? AND url_id = ?",
        Json.write(config),
        config.account(),
        config.functionName(),
        config.qualifier(),
        config.urlId());
    if (updated == 0) {
      throw new IllegalStateException("no function URL " + config.account() + ":" + config.functionName() + ":"
          + config.qualifier() + " with id " + config.urlId() + " to update");
    }
  }

  @Override
  public boolean deleteFunctionUrl(String account, String functionName, String qualifier) {
    return sql.update(
        "delete function URL",
        "DELETE FROM function_urls WHERE account = ? AND function_name = ? AND qualifier = ?",
        account,
        functionName,
        qualifier) > 0;
  }

  @Override
  public List<FunctionUrlConfig> functionUrls(String account, String functionName, String afterQualifier, int limit) {
    Sql.requirePositive(limit);
    String statement = "SELECT doc FROM function_urls WHERE account = ? AND function_name = ?"
        + (afterQualifier == null ? "" : " AND qualifier > ?")
        + " ORDER BY qualifier LIMIT ?";
    Object[] args = afterQualifier == null
        ? new Object[] {account, functionName, limit}
        : new Object[] {account, functionName, afterQualifier, limit};
    return sql.query("list function URLs", statement, rs -> Json.read(rs.getString(1), FunctionUrlConfig.class), args);
  }
}
