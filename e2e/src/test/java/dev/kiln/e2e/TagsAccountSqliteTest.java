package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("TagsAccount (SQLite)")
class TagsAccountSqliteTest extends TagsAccountContract {
  @Override
  protected StoreKind store() {
    return StoreKind.SQLITE;
  }
}
