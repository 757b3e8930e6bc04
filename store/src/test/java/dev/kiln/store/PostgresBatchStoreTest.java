package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.batch.ClaimedBatchItem;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Needs KILN_TEST_PG_URL; see {@link PostgresTestDatabase}. */
class PostgresBatchStoreTest extends BatchStoreContract {
  @RegisterExtension
  static final PostgresTestDatabase.PerClass database = new PostgresTestDatabase.PerClass();

  @Override
  protected StoreConfig config() {
    return database.config();
  }

  @Test
  void aClaimerPassesItemsAnotherIsStillClaimingInsteadOfWaiting() throws Exception {
    var job = createJobWithItems(10);
    var claimedFirst = new CountDownLatch(1);
    var release = new CountDownLatch(1);
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      var holder = executor.submit(() -> store.write(tx -> {
        var items = tx.batches().claim(account, job.jobId(), 4);
        claimedFirst.countDown();
        try {
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        return items;
      }));
      assertThat(claimedFirst.await(30, TimeUnit.SECONDS)).isTrue();
      // The first claim is not committed yet: its rows are locked, and skipped rather than waited for.
      List<ClaimedBatchItem> second = executor.submit(() -> claim(job, 4)).get(10, TimeUnit.SECONDS);
      release.countDown();
      assertThat(holder.get(30, TimeUnit.SECONDS)).extracting(ClaimedBatchItem::index).containsExactly(0L, 1L, 2L, 3L);
      assertThat(second).extracting(ClaimedBatchItem::index).containsExactly(4L, 5L, 6L, 7L);
    }
  }
}
