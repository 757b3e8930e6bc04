package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Needs KILN_TEST_PG_URL; see {@link PostgresTestDatabase}. */
class PostgresStoreTest extends MetadataStoreContract {
  @RegisterExtension
  static final PostgresTestDatabase.PerClass database = new PostgresTestDatabase.PerClass();

  @Override
  protected StoreConfig config() {
    return database.config();
  }

  @Test
  void describesItself() {
    assertThat(store.describe()).startsWith("PostgreSQL jdbc:postgresql://").contains(database.name());
  }

  @Test
  void writersToDifferentFunctionsDoNotWaitForEachOther() throws Exception {
    createFunction("held");
    createFunction("free");
    var locked = new CountDownLatch(1);
    var release = new CountDownLatch(1);
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      var holder = executor.submit(() -> store.write(tx -> {
        tx.function(account, "held").orElseThrow();
        locked.countDown();
        try {
          return release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }));
      assertThat(locked.await(30, TimeUnit.SECONDS)).isTrue();
      // Finishes while "held" is still locked: the lock is per function row, not global.
      var other = executor.submit(() -> store.write(tx -> {
        var fn = tx.function(account, "free").orElseThrow();
        tx.updateFunction(fn.withLastPublishedVersion(1));
        return null;
      }));
      other.get(10, TimeUnit.SECONDS);
      release.countDown();
      assertThat(holder.get(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void unreachableServerIsAStoreException() {
    var config = new StoreConfig.Postgres("jdbc:postgresql://127.0.0.1:1/none?connectTimeout=2", "nobody", "");
    assertThatThrownBy(() -> Stores.open(config)).isInstanceOf(StoreException.class);
  }
}
