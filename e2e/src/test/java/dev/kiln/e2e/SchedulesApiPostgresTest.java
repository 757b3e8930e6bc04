package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Schedules API (PostgreSQL)")
class SchedulesApiPostgresTest extends SchedulesApiContract {
  @Override
  protected StoreKind store() {
    return StoreKind.POSTGRES;
  }
}
