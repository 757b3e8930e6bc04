package dev.kiln.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The statements of one transaction on one JDBC connection, shared by {@link JdbcTransaction} and
 * every feature's table class ({@code Jdbc*Store}). It refuses to run anything once {@link #end}
 * was called, so a transaction that escaped its {@code read}/{@code write} block fails loudly, and
 * refuses changes in a read transaction.
 */
final class Sql {
  private final Connection connection;
  final Dialect dialect;
  private final boolean writable;
  private boolean ended;

  Sql(Connection connection, Dialect dialect, boolean writable) {
    this.connection = connection;
    this.dialect = dialect;
    this.writable = writable;
  }

  void end() {
    ended = true;
  }

  boolean writable() {
    return writable;
  }

  /** Maps the current row of a result set. */
  @FunctionalInterface
  interface Row<T> {
    T map(ResultSet rs) throws SQLException;
  }

  <T> List<T> query(String action, String sql, Row<T> row, Object... args) {
    requireOpen();
    try (PreparedStatement statement = prepare(sql, args);
        ResultSet rs = statement.executeQuery()) {
      List<T> result = new ArrayList<>();
      while (rs.next()) {
        result.add(row.map(rs));
      }
      return result;
    } catch (SQLException e) {
      throw SqlErrors.translate(e, action);
    }
  }

  <T> Optional<T> queryOne(String action, String sql, Row<T> row, Object... args) {
    List<T> rows = query(action, sql, row, args);
    return rows.isEmpty() ? Optional.empty() : Optional.of(rows.getFirst());
  }

  /** Runs a change; only in a write transaction. Returns the number of rows changed. */
  int update(String action, String sql, Object... args) {
    requireWritable();
    try (PreparedStatement statement = prepare(sql, args)) {
      return statement.executeUpdate();
    } catch (SQLException e) {
      throw SqlErrors.translate(e, action);
    }
  }

  private PreparedStatement prepare(String sql, Object... args) throws SQLException {
    PreparedStatement statement = connection.prepareStatement(sql);
    try {
      for (int i = 0; i < args.length; i++) {
        statement.setObject(i + 1, args[i]);
      }
      return statement;
    } catch (SQLException | RuntimeException e) {
      statement.close();
      throw e;
    }
  }

  private void requireOpen() {
    if (ended) {
      throw new IllegalStateException("the transaction has ended; use it only inside its read() or write() block");
    }
  }

  void requireWritable() {
    requireOpen();
    if (!writable) {
      throw new IllegalStateException("a read() transaction cannot change anything; use write()");
    }
  }

  static void requirePositive(int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be positive: " + limit);
    }
  }
}
