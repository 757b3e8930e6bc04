package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteStoreTest extends MetadataStoreContract {
  @TempDir Path dir;

  @Override
  protected StoreConfig config() {
    return new StoreConfig.Sqlite(dir.resolve("metadata").resolve("kiln.db"));
  }

  @Test
  void writeConnectionIsDurableWalWithForeignKeys() {
    var sqlite = (SqliteStore) store;
    assertThat(sqlite.pragma("journal_mode")).isEqualTo("wal");
    assertThat(sqlite.pragma("synchronous")).isEqualTo("2"); // FULL
    assertThat(sqlite.pragma("foreign_keys")).isEqualTo("1");
    assertThat(Long.parseLong(sqlite.pragma("busy_timeout"))).isPositive();
  }

  @Test
  void createsTheDatabaseFileAndDescribesIt() {
    assertThat(Files.isRegularFile(dir.resolve("metadata/kiln.db"))).isTrue();
    assertThat(store.describe()).startsWith("SQLite ").contains("kiln.db").containsPattern("schema v[0-9]+");
  }

  @Test
  void constraintViolationsAreTranslated() throws SQLException {
    try (var connection = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("raw.db"));
        var statement = connection.createStatement()) {
      statement.execute("PRAGMA foreign_keys = ON");
      statement.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
      statement.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, name TEXT UNIQUE,"
          + " parent INTEGER REFERENCES parent (id))");
      statement.execute("INSERT INTO parent VALUES (1)");
      statement.execute("INSERT INTO child VALUES (1, 'a', 1)");

      assertThat(translated(statement, "INSERT INTO child VALUES (1, 'b', 1)")).isInstanceOf(DuplicateKeyException.class);
      assertThat(translated(statement, "INSERT INTO child VALUES (2, 'a', 1)")).isInstanceOf(DuplicateKeyException.class);
      assertThat(translated(statement, "INSERT INTO child VALUES (3, 'c', 9)")).isInstanceOf(IllegalStateException.class);
      assertThat(translated(statement, "SELECT * FROM nowhere")).isInstanceOf(StoreException.class);
    }
  }

  @Test
  void unreadableLocationIsAStoreException() throws Exception {
    Path file = dir.resolve("a-file");
    Files.writeString(file, "not a directory");
    assertThatThrownBy(() -> Stores.open(new StoreConfig.Sqlite(file.resolve("kiln.db"))))
        .isInstanceOf(StoreException.class);
  }

  private static RuntimeException translated(java.sql.Statement statement, String sql) {
    try {
      statement.execute(sql);
      throw new AssertionError("expected a failure: " + sql);
    } catch (SQLException e) {
      return SqlErrors.translate(e, "test");
    }
  }
}
