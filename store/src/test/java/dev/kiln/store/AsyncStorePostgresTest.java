package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.AsyncEvent;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Needs KILN_TEST_PG_URL; see {@link PostgresTestDatabase}. */
class AsyncStorePostgresTest extends AsyncStoreContract {
  @RegisterExtension
  static final PostgresTestDatabase.PerClass database = new PostgresTestDatabase.PerClass();

  @Override
  protected StoreConfig config() {
    return database.config();
  }

  /** The rows one claimer holds are skipped, not waited for: the other claimer takes the rest at once. */
  @Test
  void aClaimerSkipsTheEventsAnotherClaimerHoldsInsteadOfWaiting() throws Exception {
    createFunction("f");
    for (int i = 0; i < 6; i++) {
      enqueue(event("f", null, T0.minusSeconds(10 - i)));
    }
    var holding = new CountDownLatch(1);
    var release = new CountDownLatch(1);
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      var holder = executor.submit(() -> store.write((StoreTransaction tx) -> {
        var mine = tx.async().claimDue(T0, "node-a", LEASE, 3, List.of());
        holding.countDown();
        try {
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        return mine;
      }));
      assertThat(holding.await(30, TimeUnit.SECONDS)).isTrue();
      // Runs while node-a's transaction is still open with its three rows locked.
      List<AsyncEvent> other = executor.submit(() -> claim(T0, "node-b", 10)).get(10, TimeUnit.SECONDS);
      release.countDown();
      var held = holder.get(30, TimeUnit.SECONDS);

      assertThat(held).hasSize(3);
      assertThat(other).hasSize(3);
      assertThat(other).extracting(AsyncEvent::requestId)
          .doesNotContainAnyElementsOf(held.stream().map(AsyncEvent::requestId).toList());
    }
  }
}
