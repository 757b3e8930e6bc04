package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("VersionsAliases (SQLite)")
class VersionsAliasesSqliteTest extends VersionsAliasesContract {
  @Override
  protected StoreKind store() {
    return StoreKind.SQLITE;
  }
}
