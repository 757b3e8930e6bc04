package dev.kiln.store;

import org.junit.jupiter.api.extension.RegisterExtension;

/** Needs KILN_TEST_PG_URL; see {@link PostgresTestDatabase}. */
class PostgresScheduleStoreTest extends ScheduleStoreContract {
  @RegisterExtension
  static final PostgresTestDatabase.PerClass database = new PostgresTestDatabase.PerClass();

  @Override
  protected StoreConfig config() {
    return database.config();
  }
}
