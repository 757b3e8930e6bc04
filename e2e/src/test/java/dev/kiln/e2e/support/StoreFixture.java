package dev.kiln.e2e.support;

import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The store one server uses, and the server arguments that select it. For PostgreSQL it creates a
 * fresh database {@code kiln_e2e_<random>} and drops it again on {@link #close()}.
 *
 * <p>{@code KILN_TEST_PG_URL} (like {@code jdbc:postgresql://127.0.0.1:5432/postgres}, user
 * postgres, empty password) names the server. When it is unset, the PostgreSQL tests fail if
 * {@code CI=true} and are skipped otherwise.
 */
public final class StoreFixture implements AutoCloseable {
  public static final String PG_URL_ENV = "KILN_TEST_PG_URL";
  private static final String PG_USER = "postgres";
  private static final String PG_PASSWORD = "";

  private final StoreKind kind;
  private final String adminUrl;
  private final String database;

  private StoreFixture(StoreKind kind, String adminUrl, String database) {
    this.kind = kind;
    this.adminUrl = adminUrl;
    this.database = database;
  }

  public static StoreFixture create(StoreKind kind) {
    if (kind == StoreKind.SQLITE) {
      return new StoreFixture(kind, null, null);
    }
    String url = System.getenv(PG_URL_ENV);
    if (url == null || url.isBlank()) {
      String message =
          PG_URL_ENV
              + " is not set, so the PostgreSQL end-to-end tests cannot run. Point it at a"
              + " PostgreSQL 15 (e.g. jdbc:postgresql://127.0.0.1:55433/postgres, user postgres,"
              + " no password).";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        Assertions.fail(message + " CI=true: failing instead of skipping.");
      }
      Assumptions.abort(message + " Skipping (set CI=true to make this a failure).");
    }
    String database = "kiln_e2e_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    try (Connection c = DriverManager.getConnection(url, PG_USER, PG_PASSWORD);
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + database);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + database + " at " + url, e);
    }
    return new StoreFixture(kind, url, database);
  }

  public StoreKind kind() {
    return kind;
  }

  /** Arguments for {@code kiln up} that select this store. */
  public List<String> serverArgs() {
    if (kind == StoreKind.SQLITE) {
      return List.of();
    }
    return List.of(
        "--store-url", databaseUrl(), "--store-user", PG_USER, "--store-password", PG_PASSWORD);
  }

  /** The JDBC URL of this fixture's own database. */
  public String databaseUrl() {
    // jdbc:postgresql://host:port/dbname?params -> same with our database name.
    URI uri = URI.create(adminUrl.substring("jdbc:".length()));
    String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
    return "jdbc:" + uri.getScheme() + "://" + uri.getRawAuthority() + "/" + database + query;
  }

  /**
   * For PostgreSQL: asserts the server really keeps its metadata in this fixture's database (it
   * created tables there), so a server that silently fell back to SQLite cannot pass the
   * PostgreSQL variants.
   */
  public void assertUsedByServer() {
    if (database == null) {
      return;
    }
    try (Connection c = DriverManager.getConnection(databaseUrl(), PG_USER, PG_PASSWORD);
        Statement s = c.createStatement();
        var rs =
            s.executeQuery(
                "SELECT count(*) FROM information_schema.tables"
                    + " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")) {
      rs.next();
      if (rs.getInt(1) == 0) {
        throw new AssertionError(
            "the server was started with --store-url " + databaseUrl() + " but created no tables there");
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot inspect database " + database, e);
    }
  }

  @Override
  public void close() {
    if (database == null) {
      return;
    }
    try (Connection c = DriverManager.getConnection(adminUrl, PG_USER, PG_PASSWORD);
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot drop database " + database, e);
    }
  }
}
