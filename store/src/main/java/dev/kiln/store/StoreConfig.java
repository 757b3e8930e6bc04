package dev.kiln.store;

import java.nio.file.Path;

/** Which metadata store to open. */
public sealed interface StoreConfig {
  /** The embedded default: one SQLite file in WAL mode. */
  record Sqlite(Path file) implements StoreConfig {}

  /** A PostgreSQL database reached over JDBC. */
  record Postgres(String jdbcUrl, String user, String password) implements StoreConfig {
    @Override
    public String toString() {
      return "Postgres[" + jdbcUrl + " as " + user + "]";
    }
  }
}
