package dev.kiln.store;

import static dev.kiln.store.TestRecords.function;
import static dev.kiln.store.TestRecords.randomAccount;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.batch.BatchFailure;
import dev.kiln.core.batch.BatchItem;
import dev.kiln.core.batch.BatchItemCounts;
import dev.kiln.core.batch.BatchJob;
import dev.kiln.core.batch.BatchJobState;
import dev.kiln.core.batch.BatchOutcome;
import dev.kiln.core.batch.ClaimedBatchItem;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every store must do for batch jobs ({@link BatchStore}): jobs found by id and idempotency
 * key, items uploaded idempotently, claimed in index order without ever handing one out twice,
 * settled, requeued after a restart, and gone with their function.
 */
public abstract class BatchStoreContract {
  protected MetadataStore store;
  protected String account;

  protected abstract StoreConfig config();

  @BeforeEach
  void openStore() {
    store = Stores.open(config());
    account = randomAccount();
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  protected String createFunction() {
    String name = "fn-" + UUID.randomUUID().toString().substring(0, 8);
    store.write(tx -> {
      tx.insertFunction(function(account, name));
      return null;
    });
    return name;
  }

  protected BatchJob newJob(String functionName, long total) {
    return new BatchJob(account, UUID.randomUUID().toString(), functionName, "live", "key-" + UUID.randomUUID(),
        BatchJobState.Created, 4, 2, total, "items.jsonl", Instant.parse("2026-01-02T03:04:05.123456789Z"), null,
        null);
  }

  protected BatchJob createJobWithItems(long total) {
    var job = newJob(createFunction(), total);
    store.write(tx -> {
      tx.batches().insertJob(job);
      tx.batches().insertItems(account, job.jobId(), items(0, total));
      return null;
    });
    return job;
  }

  protected static List<BatchItem> items(long from, long to) {
    return LongStream.range(from, to)
        .mapToObj(i -> new BatchItem(i, (int) i + 1, null, ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)))
        .toList();
  }

  protected List<ClaimedBatchItem> claim(BatchJob job, int limit) {
    return store.write(tx -> tx.batches().claim(account, job.jobId(), limit));
  }

  protected BatchItemCounts counts(BatchJob job) {
    return store.read(tx -> tx.batches().counts(account, job.jobId()));
  }

  private void record(BatchJob job, BatchOutcome... outcomes) {
    store.write(tx -> {
      tx.batches().record(account, job.jobId(), List.of(outcomes));
      return null;
    });
  }

  @Test
  void aJobIsFoundByIdAndByIdempotencyKeyExactlyAsStored() {
    var job = newJob(createFunction(), 3);
    store.write(tx -> {
      tx.batches().insertJob(job);
      return null;
    });
    assertThat(store.<Optional<BatchJob>>read(tx -> tx.batches().job(account, job.jobId()))).contains(job);
    assertThat(store.<Optional<BatchJob>>read(tx -> tx.batches().jobByIdempotencyKey(account, job.idempotencyKey()))).contains(job);
    assertThat(store.<Optional<BatchJob>>read(tx -> tx.batches().job(randomAccount(), job.jobId()))).isEmpty();
    assertThat(store.<Optional<BatchJob>>read(tx -> tx.batches().job(account, "nope"))).isEmpty();

    var started = job.started(8, Instant.parse("2026-01-02T03:05:00Z"));
    store.write(tx -> {
      tx.batches().updateJob(started);
      return null;
    });
    assertThat(store.<Optional<BatchJob>>read(tx -> tx.batches().job(account, job.jobId()))).contains(started);
    assertThat(store.<List<BatchJob>>read(tx -> tx.batches().jobsInState(BatchJobState.Running))).contains(started);
    assertThat(store.<List<BatchJob>>read(tx -> tx.batches().jobsInState(BatchJobState.Created))).doesNotContain(started, job);
  }

  @Test
  void anIdempotencyKeyOrIdIsTakenOncePerAccount() {
    String fn = createFunction();
    var job = newJob(fn, 1);
    store.write(tx -> {
      tx.batches().insertJob(job);
      return null;
    });
    var sameKey = new BatchJob(account, UUID.randomUUID().toString(), fn, null, job.idempotencyKey(),
        BatchJobState.Created, null, 2, 1, null, Instant.now(), null, null);
    assertThatThrownBy(() -> store.write(tx -> {
      tx.batches().insertJob(sameKey);
      return null;
    })).isInstanceOf(DuplicateKeyException.class);
    var sameId = new BatchJob(account, job.jobId(), fn, null, "other", BatchJobState.Created, null, 2, 1, null,
        Instant.now(), null, null);
    assertThatThrownBy(() -> store.write(tx -> {
      tx.batches().insertJob(sameId);
      return null;
    })).isInstanceOf(DuplicateKeyException.class);
  }

  @Test
  void aJobNeedsItsFunction() {
    var job = newJob("no-such-function", 1);
    assertThatThrownBy(() -> store.write(tx -> {
      tx.batches().insertJob(job);
      return null;
    })).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void jobsAreListedOldestFirstPerAccountAndFunction() {
    String a = createFunction();
    String b = createFunction();
    var first = newJob(a, 1);
    var second = new BatchJob(account, UUID.randomUUID().toString(), b, null, "k2", BatchJobState.Created, null, 2,
        1, null, first.createdAt().plusSeconds(1), null, null);
    var third = new BatchJob(account, UUID.randomUUID().toString(), a, null, "k3", BatchJobState.Created, null, 2,
        1, null, first.createdAt().plusSeconds(2), null, null);
    store.write(tx -> {
      tx.batches().insertJob(third);
      tx.batches().insertJob(first);
      tx.batches().insertJob(second);
      return null;
    });
    assertThat(store.<List<BatchJob>>read(tx -> tx.batches().jobs(account, null, 10))).containsExactly(first, second, third);
    assertThat(store.<List<BatchJob>>read(tx -> tx.batches().jobs(account, a, 10))).containsExactly(first, third);
    assertThat(store.<List<BatchJob>>read(tx -> tx.batches().jobs(account, null, 2))).containsExactly(first, second);
    assertThat(store.<List<BatchJob>>read(tx -> tx.batches().jobs(randomAccount(), null, 10))).isEmpty();
  }

  @Test
  void itemsUploadedTwiceAreStoredOnceWithTheirBytes() {
    var job = newJob(createFunction(), 5);
    byte[] binary = {0, 1, 2, (byte) 0xff, '\n', 0};
    int inserted = store.write(tx -> {
      tx.batches().insertJob(job);
      return tx.batches().insertItems(account, job.jobId(), List.of(
          new BatchItem(0, null, "a/b.bin", binary), new BatchItem(1, 7, null, "{}".getBytes())));
    });
    assertThat(inserted).isEqualTo(2);
    int again = store.write(tx -> tx.batches().insertItems(account, job.jobId(), List.of(
        new BatchItem(1, 7, null, "{\"other\":1}".getBytes()), new BatchItem(2, 8, null, "[]".getBytes()))));
    assertThat(again).as("index 1 exists: only index 2 is new").isEqualTo(1);
    assertThat(counts(job)).isEqualTo(new BatchItemCounts(3, 0, 0, 0));
    assertThat(counts(job).uploaded()).isEqualTo(3);

    var claimed = claim(job, 10);
    assertThat(claimed).extracting(ClaimedBatchItem::index).containsExactly(0L, 1L, 2L);
    assertThat(claimed.get(0).payload()).isEqualTo(binary);
    assertThat(new String(claimed.get(1).payload(), StandardCharsets.UTF_8)).isEqualTo("{}");
    assertThat(claimed).extracting(ClaimedBatchItem::attempts).containsOnly(0);
  }

  @Test
  void manyItemsGoInAndOutInLargeBatches() {
    var job = createJobWithItems(1234);
    assertThat(counts(job).pending()).isEqualTo(1234);
    var claimed = claim(job, 1000);
    assertThat(claimed).hasSize(1000);
    store.write(tx -> {
      tx.batches().record(account, job.jobId(),
          claimed.stream().map(c -> (BatchOutcome) new BatchOutcome.Succeeded(c.index(), 1)).toList());
      return null;
    });
    assertThat(counts(job)).isEqualTo(new BatchItemCounts(234, 0, 1000, 0));
  }

  @Test
  void claimsTakeTheLowestPendingIndexesAndMarkThemRunning() {
    var job = createJobWithItems(10);
    assertThat(claim(job, 3)).extracting(ClaimedBatchItem::index).containsExactly(0L, 1L, 2L);
    assertThat(claim(job, 3)).extracting(ClaimedBatchItem::index).containsExactly(3L, 4L, 5L);
    assertThat(counts(job)).isEqualTo(new BatchItemCounts(4, 6, 0, 0));
    record(job, new BatchOutcome.Released(1, 1));
    var again = claim(job, 2);
    assertThat(again).extracting(ClaimedBatchItem::index).containsExactly(1L, 6L);
    assertThat(again).extracting(ClaimedBatchItem::attempts).as("a released item keeps its attempts").containsExactly(1, 0);
    assertThat(claim(job, 100)).extracting(ClaimedBatchItem::index).containsExactly(7L, 8L, 9L);
    assertThat(claim(job, 100)).isEmpty();
    assertThat(counts(job)).isEqualTo(new BatchItemCounts(0, 10, 0, 0));
  }

  @Test
  void outcomesSettleItemsAndFailuresKeepTheirErrorsAndOrigin() {
    var job = newJob(createFunction(), 4);
    store.write(tx -> {
      tx.batches().insertJob(job);
      tx.batches().insertItems(account, job.jobId(), List.of(
          new BatchItem(0, 1, null, "1".getBytes()), new BatchItem(1, 3, null, "2".getBytes()),
          new BatchItem(2, null, "dir/x.txt", "3".getBytes()), new BatchItem(3, 9, null, "4".getBytes())));
      return null;
    });
    claim(job, 4);
    record(job, new BatchOutcome.Succeeded(0, 1), new BatchOutcome.Failed(1, 2, "Error", "boom on 1"),
        new BatchOutcome.Failed(2, 3, "Sandbox.Timedout", "too slow"), new BatchOutcome.Succeeded(3, 2));
    assertThat(counts(job)).isEqualTo(new BatchItemCounts(0, 0, 2, 2));
    assertThat(store.<List<BatchFailure>>read(tx -> tx.batches().failures(account, job.jobId(), -1, 10))).containsExactly(
        new BatchFailure(1, 3, null, 2, "Error", "boom on 1"),
        new BatchFailure(2, null, "dir/x.txt", 3, "Sandbox.Timedout", "too slow"));
    assertThat(store.<List<BatchFailure>>read(tx -> tx.batches().failures(account, job.jobId(), -1, 1)))
        .extracting(BatchFailure::index).containsExactly(1L);
    assertThat(store.<List<BatchFailure>>read(tx -> tx.batches().failures(account, job.jobId(), 1, 10)))
        .extracting(BatchFailure::index).containsExactly(2L);

    // A settled item is not settled again by a late report.
    record(job, new BatchOutcome.Released(0, 0), new BatchOutcome.Failed(3, 9, "Late", "late"));
    assertThat(counts(job)).isEqualTo(new BatchItemCounts(0, 0, 2, 2));
  }

  @Test
  void runningItemsOfADeadRunnerArePendingAgainAfterARestart() {
    var job = createJobWithItems(6);
    claim(job, 4);
    record(job, new BatchOutcome.Succeeded(0, 1));
    // The node dies with items 1-3 claimed; a new one opens the same store.
    store.close();
    store = Stores.open(config());
    assertThat(store.<Integer>write(tx -> tx.batches().requeueRunning(account, job.jobId()))).isEqualTo(3);
    assertThat(counts(job)).isEqualTo(new BatchItemCounts(5, 0, 1, 0));
    assertThat(claim(job, 10)).extracting(ClaimedBatchItem::index).containsExactly(1L, 2L, 3L, 4L, 5L);
  }

  @Test
  void concurrentClaimersNeverTakeAnItemTwice() throws Exception {
    var job = createJobWithItems(400);
    Set<Long> seen = ConcurrentHashMap.newKeySet();
    var duplicates = new ConcurrentLinkedQueue<Long>();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> claimers = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        claimers.add(executor.submit(() -> {
          while (true) {
            var claimed = claim(job, 7);
            if (claimed.isEmpty()) {
              return null;
            }
            for (var item : claimed) {
              if (!seen.add(item.index())) {
                duplicates.add(item.index());
              }
            }
          }
        }));
      }
      for (var claimer : claimers) {
        claimer.get(60, TimeUnit.SECONDS);
      }
    }
    assertThat(duplicates).isEmpty();
    assertThat(seen).hasSize(400);
    assertThat(counts(job)).isEqualTo(new BatchItemCounts(0, 400, 0, 0));
  }

  @Test
  void deletingAJobOrItsFunctionDeletesItsItems() {
    var job = createJobWithItems(3);
    var other = createJobWithItems(2);
    store.write(tx -> {
      tx.batches().deleteJob(account, job.jobId());
      return null;
    });
    assertThat(store.<Optional<BatchJob>>read(tx -> tx.batches().job(account, job.jobId()))).isEmpty();
    assertThat(counts(job).uploaded()).isZero();

    store.write(tx -> {
      tx.deleteFunction(account, other.functionName());
      return null;
    });
    assertThat(store.<Optional<BatchJob>>read(tx -> tx.batches().job(account, other.jobId()))).isEmpty();
    assertThat(counts(other).uploaded()).isZero();
  }
}
