package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Errors (PostgreSQL)")
class ErrorsPostgresTest extends ErrorsContract {
  @Override
  protected StoreKind store() {
    return StoreKind.POSTGRES;
  }
}
