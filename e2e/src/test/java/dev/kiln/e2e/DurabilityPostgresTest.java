package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Durability (PostgreSQL)")
class DurabilityPostgresTest extends DurabilityContract {
  @Override
  protected StoreKind store() {
    return StoreKind.POSTGRES;
  }
}
