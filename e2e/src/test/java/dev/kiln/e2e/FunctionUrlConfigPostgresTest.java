package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Function URL configurations (PostgreSQL)")
class FunctionUrlConfigPostgresTest extends FunctionUrlConfigTest {
  @Override
  protected StoreKind store() {
    return StoreKind.POSTGRES;
  }
}
