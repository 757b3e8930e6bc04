package dev.kiln.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production metadata store: a PostgreSQL database through a HikariCP pool.
 *
 * <p>Transactions run at READ COMMITTED. Writers to one function are serialized by the row lock
 * that {@link StoreTransaction#function} takes with {@code SELECT ... FOR UPDATE} inside {@link
 * #write}; writers to different functions proceed in parallel. Deadlocks (two writers locking the
 * same functions in opposite order) are detected by PostgreSQL and surface as {@link
 * StoreException}; the store does not retry, because {@code work} may have effects outside the
 * database.
 */
public final class PostgresStore implements MetadataStore {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresStore.class);
  private static final int POOL_SIZE = 10;

  private final HikariDataSource pool;
  private final String jdbcUrl;
  private final String schemaVersion;
  /** Set while this thread is inside write(): a nested write would take a second connection and could wait on its own lock. */
  private final ThreadLocal<Boolean> writing = new ThreadLocal<>();
  private volatile boolean closed;

  private PostgresStore(HikariDataSource pool, String jdbcUrl, String schemaVersion) {
    this.pool = pool;
    this.jdbcUrl = jdbcUrl;
    this.schemaVersion = schemaVersion;
  }

  /** Connects and brings the schema up to date. */
  static PostgresStore open(StoreConfig.Postgres config) {
    var hikari = new HikariConfig();
    hikari.setJdbcUrl(config.jdbcUrl());
    hikari.setUsername(config.user());
    hikari.setPassword(config.password());
    // Named explicitly so the driver is found even where META-INF/services files were not merged.
    hikari.setDriverClassName("org.postgresql.Driver");
    hikari.setPoolName("kiln-store-postgres");
    hikari.setMaximumPoolSize(POOL_SIZE);
    hikari.setMinimumIdle(2);
    hikari.setAutoCommit(false);
    hikari.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
    hikari.addDataSourceProperty("ApplicationName", "kiln");
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(hikari);
    } catch (RuntimeException e) {
      throw new StoreException("cannot connect to " + config + ": " + e.getMessage(), e);
    }
    try {
      String version = Migrations.apply(pool, "postgresql");
      return new PostgresStore(pool, config.jdbcUrl(), version);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
  }

  @Override
  public <T> T read(Function<StoreTransaction, T> work) {
    requireOpen();
    Connection connection = borrow();
    try {
      // The driver then opens each transaction READ ONLY, so PostgreSQL itself refuses writes.
      connection.setReadOnly(true);
    } catch (SQLException e) {
      release(connection);
      throw SqlErrors.translate(e, "begin read transaction");
    }
    var tx = new JdbcTransaction(connection, Dialect.POSTGRES, false);
    try {
      return work.apply(tx);
    } finally {
      tx.end();
      // Nothing to keep: rolling back ends the transaction as well as a commit would.
      rollbackAndRelease(connection);
    }
  }

  /**
   * @throws IllegalStateException when called inside another {@code write} on the same thread
   */
  @Override
  public <T> T write(Function<StoreTransaction, T> work) {
    if (Boolean.TRUE.equals(writing.get())) {
      throw new IllegalStateException("write() called inside write(): do all the changes in one transaction");
    }
    requireOpen();
    writing.set(Boolean.TRUE);
    try {
      Connection connection = borrow();
      var tx = new JdbcTransaction(connection, Dialect.POSTGRES, true);
      boolean committed = false;
      try {
        T result = work.apply(tx);
        tx.end();
        commit(connection);
        committed = true;
        return result;
      } finally {
        tx.end();
        if (committed) {
          release(connection);
        } else {
          rollbackAndRelease(connection);
        }
      }
    } finally {
      writing.remove();
    }
  }

  @Override
  public String describe() {
    return "PostgreSQL " + jdbcUrl + " (schema v" + schemaVersion + ")";
  }

  @Override
  public void close() {
    closed = true;
    pool.close();
  }

  private Connection borrow() {
    try {
      return pool.getConnection();
    } catch (SQLException e) {
      throw new StoreException("no connection to PostgreSQL at " + jdbcUrl + ": " + e.getMessage(), e);
    }
  }

  private static void commit(Connection connection) {
    try {
      connection.commit();
    } catch (SQLException e) {
      throw SqlErrors.translate(e, "commit");
    }
  }

  private void rollbackAndRelease(Connection connection) {
    try {
      connection.rollback();
      release(connection);
    } catch (SQLException e) {
      // Its transaction state is unknown: the pool must not hand this connection out again.
      LOG.warn("PostgreSQL rollback failed, dropping the connection: {}", e.getMessage());
      pool.evictConnection(connection);
    }
  }

  private static void release(Connection connection) {
    try {
      connection.close();
    } catch (SQLException e) {
      LOG.warn("returning a PostgreSQL connection failed: {}", e.getMessage());
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("the store is closed");
    }
  }
}
