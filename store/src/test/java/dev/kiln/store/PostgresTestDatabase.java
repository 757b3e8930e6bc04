package dev.kiln.store;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh, uniquely named PostgreSQL database for one test run, dropped on {@link #close}.
 *
 * <p>The server comes from {@code KILN_TEST_PG_URL} (for example {@code
 * jdbc:postgresql://127.0.0.1:55432/postgres}; the database named there is only used to create
 * and drop the test database), with user {@code KILN_TEST_PG_USER} (default {@code postgres}) and
 * password {@code KILN_TEST_PG_PASSWORD} (default empty). Without {@code KILN_TEST_PG_URL} the
 * calling test is skipped, except under {@code CI=true}, where it fails: CI must never skip
 * PostgreSQL silently.
 *
 * <pre>{@code
 * @RegisterExtension static final PostgresTestDatabase.PerClass database = new PostgresTestDatabase.PerClass();
 * ... Stores.open(database.config()) ...
 * }</pre>
 */
public final class PostgresTestDatabase implements AutoCloseable {
  public static final String URL_VARIABLE = "KILN_TEST_PG_URL";
  public static final String USER_VARIABLE = "KILN_TEST_PG_USER";
  public static final String PASSWORD_VARIABLE = "KILN_TEST_PG_PASSWORD";

  private final String adminUrl;
  private final String user;
  private final String password;
  private final String name;
  private boolean dropped;

  private PostgresTestDatabase(String adminUrl, String user, String password, String name) {
    this.adminUrl = adminUrl;
    this.user = user;
    this.password = password;
    this.name = name;
  }

  /**
   * Creates {@code kiln_test_<random>} on the configured server; skips the calling test (fails it
   * under {@code CI=true}) when no server is configured.
   */
  public static PostgresTestDatabase create() {
    String adminUrl = System.getenv(URL_VARIABLE);
    if (adminUrl == null || adminUrl.isBlank()) {
      String message = URL_VARIABLE + " is not set (e.g. jdbc:postgresql://127.0.0.1:5432/postgres), so the PostgreSQL tests cannot run";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail(message + "; CI=true requires them");
      }
      abort(message + "; skipped");
    }
    String user = envOr(USER_VARIABLE, "postgres");
    String password = envOr(PASSWORD_VARIABLE, "");
    byte[] random = new byte[6];
    ThreadLocalRandom.current().nextBytes(random);
    String name = "kiln_test_" + HexFormat.of().formatHex(random);
    var database = new PostgresTestDatabase(adminUrl, user, password, name);
    database.admin("CREATE DATABASE " + name);
    return database;
  }

  /** How to reach the new database. */
  public StoreConfig.Postgres config() {
    return new StoreConfig.Postgres(withDatabase(adminUrl, name), user, password);
  }

  public String name() {
    return name;
  }

  /** Drops the database, ending any connection still open to it. */
  @Override
  public void close() {
    if (!dropped) {
      admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      dropped = true;
    }
  }

  private void admin(String sql) {
    try (Connection connection = DriverManager.getConnection(adminUrl, user, password);
        var statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + " on " + adminUrl + " failed: " + e.getMessage(), e);
    }
  }

  /** {@code jdbc:postgresql://host:port/any?params} with its database replaced by {@code database}. */
  static String withDatabase(String url, String database) {
    String prefix = "jdbc:postgresql://";
    if (!url.startsWith(prefix)) {
      throw new IllegalArgumentException(URL_VARIABLE + " must look like jdbc:postgresql://host:port/database: " + url);
    }
    int query = url.indexOf('?');
    String params = query < 0 ? "" : url.substring(query);
    String withoutParams = query < 0 ? url : url.substring(0, query);
    int slash = withoutParams.indexOf('/', prefix.length());
    String server = slash < 0 ? withoutParams : withoutParams.substring(0, slash);
    return server + "/" + database + params;
  }

  /** One database for all the tests of a class: created before the first, dropped after the last. */
  public static final class PerClass implements BeforeAllCallback, AfterAllCallback {
    private PostgresTestDatabase database;

    @Override
    public void beforeAll(ExtensionContext context) {
      database = create();
    }

    @Override
    public void afterAll(ExtensionContext context) {
      if (database != null) {
        database.close();
      }
    }

    public StoreConfig.Postgres config() {
      return database.config();
    }

    public String name() {
      return database.name();
    }
  }

  private static String envOr(String variable, String fallback) {
    String value = System.getenv(variable);
    return value == null ? fallback : value;
  }
}
