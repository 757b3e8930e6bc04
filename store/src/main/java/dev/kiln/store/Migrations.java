package dev.kiln.store;

import dev.kiln.store.internal.QuietFlywayLogs;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/** Brings a database's schema up to date with the migrations shipped in this jar. */
final class Migrations {
  private Migrations() {}

  /**
   * Applies the pending migrations under {@code db/migration/<flavour>} and returns the schema
   * version the database is at afterwards.
   */
  static String apply(DataSource dataSource, String flavour) {
    try {
      var flyway =
          Flyway.configure(Migrations.class.getClassLoader())
              .dataSource(dataSource)
              .locations("classpath:db/migration/" + flavour)
              .loggers(QuietFlywayLogs.class.getName())
              .load();
      flyway.migrate();
      var current = flyway.info().current();
      return current == null ? "none" : current.getVersion().getVersion();
    } catch (FlywayException e) {
      throw new StoreException("cannot bring the " + flavour + " schema up to date: " + e.getMessage(), e);
    }
  }
}
