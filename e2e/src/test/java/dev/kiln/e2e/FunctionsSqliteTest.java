package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Functions (SQLite)")
class FunctionsSqliteTest extends FunctionsContract {
  @Override
  protected StoreKind store() {
    return StoreKind.SQLITE;
  }
}
