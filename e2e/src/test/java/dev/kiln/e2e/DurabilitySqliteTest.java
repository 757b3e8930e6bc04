package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Durability (SQLite)")
class DurabilitySqliteTest extends DurabilityContract {
  @Override
  protected StoreKind store() {
    return StoreKind.SQLITE;
  }
}
