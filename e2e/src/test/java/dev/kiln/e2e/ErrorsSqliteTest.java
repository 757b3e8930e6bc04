package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Errors (SQLite)")
class ErrorsSqliteTest extends ErrorsContract {
  @Override
  protected StoreKind store() {
    return StoreKind.SQLITE;
  }
}
