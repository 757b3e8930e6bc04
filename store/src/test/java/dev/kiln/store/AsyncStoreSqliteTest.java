package dev.kiln.store;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class AsyncStoreSqliteTest extends AsyncStoreContract {
  @TempDir Path dir;

  @Override
  protected StoreConfig config() {
    return new StoreConfig.Sqlite(dir.resolve("kiln.db"));
  }
}
