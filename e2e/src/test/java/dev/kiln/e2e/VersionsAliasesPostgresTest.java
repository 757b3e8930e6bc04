package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("VersionsAliases (PostgreSQL)")
class VersionsAliasesPostgresTest extends VersionsAliasesContract {
  @Override
  protected StoreKind store() {
    return StoreKind.POSTGRES;
  }
}
