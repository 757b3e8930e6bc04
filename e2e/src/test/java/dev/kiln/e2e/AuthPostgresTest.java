package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Auth (PostgreSQL)")
class AuthPostgresTest extends AuthContract {
  @Override
  protected StoreKind store() {
    return StoreKind.POSTGRES;
  }
}
