package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

/** The batch durability tests with the checkpoint in PostgreSQL (items claimed with FOR UPDATE SKIP LOCKED). */
@DisplayName("Batch durability (PostgreSQL)")
class BatchDurabilityPostgresTest extends BatchDurabilityTest {
  @Override
  protected StoreKind store() {
    return StoreKind.POSTGRES;
  }
}
