package dev.kiln.e2e;

import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.DisplayName;

@DisplayName("Schedules API (SQLite)")
class SchedulesApiSqliteTest extends SchedulesApiContract {
  @Override
  protected StoreKind store() {
    return StoreKind.SQLITE;
  }
}
