package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Async durability (SQLite)")
class AsyncDurabilitySqliteTest extends AsyncDurabilityContract {
  @Override
  protected StoreKind store() {
    return StoreKind.SQLITE;
  }
}
