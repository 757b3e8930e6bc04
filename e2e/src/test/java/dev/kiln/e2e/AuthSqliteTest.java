package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Auth (SQLite)")
class AuthSqliteTest extends AuthContract {
  @Override
  protected StoreKind store() {
    return StoreKind.SQLITE;
  }
}
