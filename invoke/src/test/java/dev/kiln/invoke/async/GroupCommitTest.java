package dev.kiln.invoke.async;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kiln.core.AsyncEvent;
import dev.kiln.core.FunctionRecord;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreConfig;
import dev.kiln.store.StoreTransaction;
import dev.kiln.store.Stores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Group commit on a real SQLite store: writes share transactions, and one bad write fails alone. */
class GroupCommitTest {
  private static final String ACCOUNT = "123456789012";

  @TempDir Path dir;
  private MetadataStore sqlite;
  private final AtomicInteger transactions = new AtomicInteger();
  private MetadataStore store;

  @BeforeEach
  void open() {
    sqlite = Stores.open(new StoreConfig.Sqlite(dir.resolve("kiln.db")));
    sqlite.write(tx -> {
      tx.insertFunction(new FunctionRecord(ACCOUNT, "f", Map.of(), 0, Instant.now()));
      return null;
    });
    // The real store, counting its write transactions.
    store = new MetadataStore() {
      @Override
      public <T> T read(Function<StoreTransaction, T> work) {
        return sqlite.read(work);
      }

      @Override
      public <T> T write(Function<StoreTransaction, T> work) {
        transactions.incrementAndGet();
        return sqlite.write(work);
      }

      @Override
      public String describe() {
        return sqlite.describe();
      }

      @Override
      public void close() {
        sqlite.close();
      }
    };
  }

  @AfterEach
  void close() {
    sqlite.close();
  }

  @Test
  void writesQueuedDuringACommitShareTheNextOne() throws Exception {
    try (var commits = new GroupCommit(store); var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      var inCommit = new CountDownLatch(1);
      var release = new CountDownLatch(1);
      var first = executor.submit(() -> commits.write(tx -> {
        inCommit.countDown();
        hold(release);
        return tx.async().enqueue(event(), null, null);
      }, 10));
      assertThat(inCommit.await(10, TimeUnit.SECONDS)).isTrue();
      List<Thread> writers = new ArrayList<>();
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        results.add(executor.submit(() -> writing(writers, () -> commits.write(tx -> tx.async().enqueue(event(), null, null), 10))));
      }
      awaitWaiting(writers, 20);
      release.countDown();

      assertThat(first.get(10, TimeUnit.SECONDS)).isTrue();
      for (var result : results) {
        assertThat(result.get(10, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(transactions.get()).as("the first commit, then one for all 20 queued behind it").isEqualTo(2);
      assertThat(queued()).isEqualTo(21);
    }
  }

  @Test
  void aFailingWriteFailsAloneAndTheOthersOfItsBatchAreCommitted() throws Exception {
    try (var commits = new GroupCommit(store); var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      var release = new CountDownLatch(1);
      var blocker = executor.submit(() -> commits.write(tx -> {
        hold(release);
        return true;
      }, 0));
      List<Thread> writers = new ArrayList<>();
      List<Future<Boolean>> good = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        good.add(executor.submit(() -> writing(writers, () -> commits.write(tx -> tx.async().enqueue(event(), null, null), 10))));
      }
      Future<Boolean> bad = executor.submit(() -> writing(writers, () -> commits.write(tx -> {
        throw new IllegalStateException("this write is broken");
      }, 0)));
      for (int i = 0; i < 5; i++) {
        good.add(executor.submit(() -> writing(writers, () -> commits.write(tx -> tx.async().enqueue(event(), null, null), 10))));
      }
      awaitWaiting(writers, 11);
      release.countDown();

      assertThat(blocker.get(10, TimeUnit.SECONDS)).isTrue();
      for (var result : good) {
        assertThat(result.get(10, TimeUnit.SECONDS)).isTrue();
      }
      assertThatThrownBy(() -> bad.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class)
          .hasMessageContaining("this write is broken");
      assertThat(queued()).isEqualTo(10);
      assertThat(transactions.get()).as("the blocker, the failed batch of 11, then each of the 11 alone").isEqualTo(13);
    }
  }

  @Test
  void closingCommitsWhatIsQueuedAndRefusesMore() {
    var commits = new GroupCommit(store);
    boolean stored = commits.write((StoreTransaction tx) -> tx.async().enqueue(event(), null, null), 10);
    assertThat(stored).isTrue();
    commits.close();
    assertThatThrownBy(() -> commits.write(tx -> tx.async().enqueue(event(), null, null), 10))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("shut down");
    assertThat(queued()).isEqualTo(1);
  }

  private static <T> T writing(List<Thread> writers, java.util.function.Supplier<T> write) {
    synchronized (writers) {
      writers.add(Thread.currentThread());
    }
    return write.get();
  }

  /** Until every writer has queued its write and waits for its commit. */
  private static void awaitWaiting(List<Thread> writers, int count) {
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      synchronized (writers) {
        return writers.size() == count && writers.stream().allMatch(t -> t.getState() == Thread.State.WAITING);
      }
    });
  }

  private long queued() {
    return sqlite.read((StoreTransaction tx) -> tx.async().queued());
  }

  private static AsyncEvent event() {
    var now = Instant.now();
    return new AsyncEvent(UUID.randomUUID().toString(), ACCOUNT, "f", null, "{}".getBytes(StandardCharsets.UTF_8),
        null, now, 0, now);
  }

  private static void hold(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
