package dev.kiln.store;

import org.junit.jupiter.api.extension.RegisterExtension;

/** Needs KILN_TEST_PG_URL; see {@link PostgresTestDatabase}. */
class EventSourceMappingPostgresTest extends EventSourceMappingStoreContract {
  @RegisterExtension
  static final PostgresTestDatabase.PerClass database = new PostgresTestDatabase.PerClass();

  @Override
  protected StoreConfig config() {
    return database.config();
  }
}
