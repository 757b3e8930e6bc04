package dev.kiln.store;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Needs KILN_TEST_PG_URL; see {@link PostgresTestDatabase}. */
class EventSourceMappingPostgresTest extends EventSourceMappingStoreContract {
  private static PostgresTestDatabase database;

  @BeforeAll
  static void createDatabase() {
    database = PostgresTestDatabase.create();
  }

  @AfterAll
  static void dropDatabase() {
    if (database != null) {
      database.close();
    }
  }

  @Override
  protected StoreConfig config() {
    return database.config();
  }
}
