package dev.kiln.store;

import java.sql.SQLException;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/** Turns driver exceptions into the store's unchecked exceptions. */
final class SqlErrors {
  private static final String PG_UNIQUE_VIOLATION = "23505";
  private static final String PG_FOREIGN_KEY_VIOLATION = "23503";

  private SqlErrors() {}

  /**
   * Key conflicts become {@link DuplicateKeyException}, a row that refers to a missing parent
   * becomes {@link IllegalStateException} (a caller bug: the parent should have been checked in
   * the same transaction), anything else {@link StoreException}.
   */
  static RuntimeException translate(SQLException e, String action) {
    if (isUniqueViolation(e)) {
      return new DuplicateKeyException(action + ": the key exists already", e);
    }
    if (isForeignKeyViolation(e)) {
      return new IllegalStateException(action + ": the function it belongs to does not exist", e);
    }
    return new StoreException(action + " failed: " + e.getMessage(), e);
  }

  static boolean isUniqueViolation(SQLException e) {
    if (e instanceof SQLiteException sqlite) {
      var code = sqlite.getResultCode();
      return code == SQLiteErrorCode.SQLITE_CONSTRAINT_PRIMARYKEY
          || code == SQLiteErrorCode.SQLITE_CONSTRAINT_UNIQUE;
    }
    return PG_UNIQUE_VIOLATION.equals(e.getSQLState());
  }

  static boolean isForeignKeyViolation(SQLException e) {
    if (e instanceof SQLiteException sqlite) {
      return sqlite.getResultCode() == SQLiteErrorCode.SQLITE_CONSTRAINT_FOREIGNKEY;
    }
    return PG_FOREIGN_KEY_VIOLATION.equals(e.getSQLState());
  }
}
