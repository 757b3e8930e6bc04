package dev.kiln.store;

import dev.kiln.core.PrivateFiles;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The embedded metadata store: one SQLite file in WAL mode.
 *
 * <p>SQLite takes one writer at a time, so all writes go through a single connection guarded by a
 * fair {@link ReentrantLock} (not {@code synchronized}, so virtual threads waiting for it unmount)
 * and start with {@code BEGIN IMMEDIATE}, which takes the database's write lock up front: a
 * transaction never has to upgrade from reading to writing, the step where SQLite would fail with
 * SQLITE_BUSY. That also makes every write transaction serial, which is the row lock
 * {@link StoreTransaction#function} promises. Reads run on a small pool of read-only connections;
 * WAL lets them proceed while a write is in progress, each seeing the last committed state.
 *
 * <p>{@code synchronous=FULL} makes every commit fsync the WAL, so a write acknowledged by {@link
 * #write} survives a crash of the process or the machine.
 */
public final class SqliteStore implements MetadataStore {
  private static final Logger LOG = LoggerFactory.getLogger(SqliteStore.class);
  private static final int READ_CONNECTIONS = 4;
  /** How long a statement waits for a lock held by another process (e.g. a CLI on the same file). */
  private static final int BUSY_TIMEOUT_MS = 10_000;

  private final Path file;
  private final String schemaVersion;
  private final SQLiteDataSource writerSource;
  private final HikariDataSource readers;
  private final ReentrantLock writeLock = new ReentrantLock(true);
  /** Guarded by {@link #writeLock}; reopened when a failed rollback left it in an unknown state. */
  private Connection writer;
  private volatile boolean closed;

  private SqliteStore(Path file, String schemaVersion, SQLiteDataSource writerSource, HikariDataSource readers,
      Connection writer) {
    this.file = file;
    this.schemaVersion = schemaVersion;
    this.writerSource = writerSource;
    this.readers = readers;
    this.writer = writer;
  }

  /** Opens (creating if needed) the database file and brings its schema up to date. */
  static SqliteStore open(StoreConfig.Sqlite config) {
    Path file = config.file().toAbsolutePath();
    try {
      Files.createDirectories(file.getParent());
      // Every account's keys are in it: 0600 from its creation. SQLite gives its -wal and -shm files the
      // database's mode; those an earlier Kiln left readable are put right too.
      PrivateFiles.create(file);
      PrivateFiles.restrict(file.resolveSibling(file.getFileName() + "-wal"));
      PrivateFiles.restrict(file.resolveSibling(file.getFileName() + "-shm"));
      PrivateFiles.restrict(file.resolveSibling(file.getFileName() + "-journal"));
    } catch (IOException e) {
      throw new StoreException("cannot create " + file + " readable by its owner only", e);
    }
    String url = "jdbc:sqlite:" + file;
    SQLiteDataSource writerSource = new SQLiteDataSource(writerConfig());
    writerSource.setUrl(url);
    // Migrate through a writer-configured connection: that is also what turns WAL on (it persists in the file).
    String version = Migrations.apply(writerSource, "sqlite");
    Connection writer = null;
    try {
      // The writer opens before the readers: read-only connections need the WAL index it creates.
      writer = writerSource.getConnection();
      return new SqliteStore(file, version, writerSource, readPool(url), writer);
    } catch (SQLException | RuntimeException e) {
      closeQuietly(writer);
      throw new StoreException("cannot open SQLite database " + file + ": " + e.getMessage(), e);
    }
  }

  private static SQLiteConfig writerConfig() {
    var config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
    config.enforceForeignKeys(true);
    config.setBusyTimeout(BUSY_TIMEOUT_MS);
    return config;
  }

  private static HikariDataSource readPool(String url) {
    var config = new SQLiteConfig();
    // Opened read-only, so a write slipping into read() fails in SQLite as well as in JdbcTransaction.
    config.setReadOnly(true);
    config.setBusyTimeout(BUSY_TIMEOUT_MS);
    var source = new SQLiteDataSource(config);
    source.setUrl(url);
    var pool = new HikariConfig();
    pool.setDataSource(source);
    pool.setPoolName("kiln-sqlite-read");
    pool.setMaximumPoolSize(READ_CONNECTIONS);
    pool.setMinimumIdle(1);
    // Matches how the connections are opened; HikariCP would otherwise try to flip the flag, which
    // the SQLite driver refuses on an open connection.
    pool.setReadOnly(true);
    return new HikariDataSource(pool);
  }

  @Override
  public <T> T read(Function<StoreTransaction, T> work) {
    requireOpen();
    Connection connection = borrowReader();
    boolean reusable = false;
    try {
      // An explicit transaction keeps one snapshot for all statements of the block.
      execute(connection, "BEGIN", "begin read transaction");
      var tx = new JdbcTransaction(connection, Dialect.SQLITE, false);
      try {
        return work.apply(tx);
      } finally {
        tx.end();
        // Ending the transaction releases the snapshot, which WAL checkpoints wait for.
        reusable = tryExecute(connection, "COMMIT");
      }
    } finally {
      if (reusable) {
        closeQuietly(connection);
      } else {
        readers.evictConnection(connection);
      }
    }
  }

  /**
   * @throws IllegalStateException when called inside another {@code write} on the same thread
   *     (SQLite has no nested transactions, and the connection is already in use)
   */
  @Override
  public <T> T write(Function<StoreTransaction, T> work) {
    if (writeLock.isHeldByCurrentThread()) {
      throw new IllegalStateException("write() called inside write(): do all the changes in one transaction");
    }
    writeLock.lock();
    try {
      requireOpen();
      Connection connection = writer();
      execute(connection, "BEGIN IMMEDIATE", "begin write transaction");
      var tx = new JdbcTransaction(connection, Dialect.SQLITE, true);
      boolean committed = false;
      try {
        T result = work.apply(tx);
        tx.end();
        execute(connection, "COMMIT", "commit");
        committed = true;
        return result;
      } finally {
        tx.end();
        if (!committed && !tryExecute(connection, "ROLLBACK")) {
          // The connection's transaction state is unknown now: start over with a fresh one.
          closeQuietly(writer);
          writer = null;
        }
      }
    } finally {
      writeLock.unlock();
    }
  }

  @Override
  public String describe() {
    return "SQLite " + file + " (schema v" + schemaVersion + ")";
  }

  @Override
  public void close() {
    writeLock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      readers.close();
      // The writer closes last: the last connection to go checkpoints the WAL into the main file.
      closeQuietly(writer);
      writer = null;
    } finally {
      writeLock.unlock();
    }
  }

  /** A PRAGMA's value as the write connection sees it; for tests of the connection settings. */
  String pragma(String name) {
    if (!name.matches("[a-z_]+")) {
      throw new IllegalArgumentException("not a pragma name: " + name);
    }
    writeLock.lock();
    try {
      requireOpen();
      try (Statement statement = writer().createStatement();
          var rs = statement.executeQuery("PRAGMA " + name)) {
        return rs.next() ? rs.getString(1) : null;
      } catch (SQLException e) {
        throw SqlErrors.translate(e, "read pragma " + name);
      }
    } finally {
      writeLock.unlock();
    }
  }

  private Connection writer() {
    if (writer == null) {
      try {
        writer = writerSource.getConnection();
      } catch (SQLException e) {
        throw new StoreException("cannot reopen SQLite database " + file + ": " + e.getMessage(), e);
      }
    }
    return writer;
  }

  private Connection borrowReader() {
    try {
      return readers.getConnection();
    } catch (SQLException e) {
      throw new StoreException("no read connection to " + file + ": " + e.getMessage(), e);
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("the store is closed");
    }
  }

  private static void execute(Connection connection, String sql, String action) {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw SqlErrors.translate(e, action);
    }
  }

  private static boolean tryExecute(Connection connection, String sql) {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
      return true;
    } catch (SQLException e) {
      LOG.warn("SQLite {} failed: {}", sql, e.getMessage());
      return false;
    }
  }

  private static void closeQuietly(Connection connection) {
    if (connection == null) {
      return;
    }
    try {
      connection.close();
    } catch (SQLException e) {
      LOG.warn("closing an SQLite connection failed: {}", e.getMessage());
    }
  }
}
