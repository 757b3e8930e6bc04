package dev.kiln.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import dev.kiln.core.Region;
import dev.kiln.core.batch.BatchFailure;
import dev.kiln.core.batch.BatchItem;
import dev.kiln.core.batch.BatchItemCounts;
import dev.kiln.core.batch.BatchJobState;
import dev.kiln.core.batch.BatchOutcome;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreConfig;
import dev.kiln.store.Stores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.stream.LongStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchesTest {
  private static final String ACCOUNT = "123456789012";

  @TempDir Path dir;
  private MetadataStore store;
  private ControlPlane control;
  private Batches batches;

  @BeforeEach
  void open() {
    store = Stores.open(new StoreConfig.Sqlite(dir.resolve("kiln.db")));
    control = new ControlPlane(store, new CodeStore(dir.resolve("code")), Region.DEFAULT, Clock.systemUTC(), v -> {});
    batches = new Batches(store, control, Clock.systemUTC());
    for (var name : List.of("f", "g")) {
      control.createFunction(ACCOUNT, new CreateFunctionRequest(name, new ConfigurationChange("nodejs22.x",
          "index.handler", "arn:aws:iam::123456789012:role/test", null, null, null, null, null, null),
          ControlPlaneTest.zip("x"), null, false));
    }
  }

  @AfterEach
  void close() {
    store.close();
  }

  private Batches.Created create(String function, long total, String key) {
    return batches.create(ACCOUNT, new CreateBatchRequest(function, null, key, total, null, null, "in.jsonl"));
  }

  private static List<BatchItem> items(long from, long to) {
    return LongStream.range(from, to)
        .mapToObj(i -> new BatchItem(i, (int) i + 1, null, ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)))
        .toList();
  }

  @Test
  void theSameIdempotencyKeyFindsTheSameJob() {
    var first = create("f", 3, "k1");
    assertThat(first.created()).isTrue();
    assertThat(first.status().job().state()).isEqualTo(BatchJobState.Created);
    assertThat(first.status().job().maxAttempts()).isEqualTo(Batches.DEFAULT_MAX_ATTEMPTS);
    var again = create("f", 3, "k1");
    assertThat(again.created()).isFalse();
    assertThat(again.status().job()).isEqualTo(first.status().job());
    assertError(() -> create("g", 3, "k1"), ErrorCode.ResourceConflictException);
    assertError(() -> create("f", 4, "k1"), ErrorCode.ResourceConflictException);
    assertThat(create("f", 3, null).status().job().jobId()).as("no key, a new job")
        .isNotEqualTo(first.status().job().jobId());
  }

  @Test
  void badRequestsAreRefusedWithLambdasErrors() {
    assertError(() -> create("nobody", 1, null), ErrorCode.ResourceNotFoundException);
    assertError(() -> batches.create(ACCOUNT, new CreateBatchRequest("f", "nope", null, 1L, null, null, null)),
        ErrorCode.ResourceNotFoundException);
    assertError(() -> create("f", 0, null), ErrorCode.InvalidParameterValueException);
    assertError(() -> batches.create(ACCOUNT, new CreateBatchRequest("f", null, null, null, null, null, null)),
        ErrorCode.InvalidParameterValueException);
    assertError(() -> batches.create(ACCOUNT, new CreateBatchRequest("f", null, null, 1L, 0, null, null)),
        ErrorCode.InvalidParameterValueException);
    assertError(() -> batches.create(ACCOUNT, new CreateBatchRequest("f", null, null, 1L, null, 11, null)),
        ErrorCode.InvalidParameterValueException);
    assertError(() -> create("f", 1, "has spaces"), ErrorCode.InvalidParameterValueException);
    assertError(() -> batches.status(ACCOUNT, "nope"), ErrorCode.ResourceNotFoundException);
    assertError(() -> batches.status("999999999999", create("f", 1, null).status().job().jobId()),
        ErrorCode.ResourceNotFoundException);
  }

  @Test
  void itemsAreCheckedAndAJobStartsOnlyWithAllOfThem() {
    var jobId = create("f", 3, null).status().job().jobId();
    assertThat(batches.upload(ACCOUNT, jobId, items(0, 2)).counts()).isEqualTo(new BatchItemCounts(2, 0, 0, 0));
    assertThat(batches.upload(ACCOUNT, jobId, items(0, 2)).counts().uploaded()).as("uploaded again: kept once")
        .isEqualTo(2);
    assertThatThrownBy(() -> batches.start(ACCOUNT, jobId, null)).hasMessageContaining("has 2 of its 3 items");
    assertError(() -> batches.upload(ACCOUNT, jobId, items(3, 4)), ErrorCode.InvalidParameterValueException);
    assertThatThrownBy(() -> batches.upload(ACCOUNT, jobId, List.of(
        new BatchItem(2, 9, null, "{\"n\":".getBytes(StandardCharsets.UTF_8)))))
        .isInstanceOf(KilnException.class).hasMessageContaining("Item 2 (line 9) is not valid JSON");
    assertThatThrownBy(() -> batches.upload(ACCOUNT, jobId, List.of(
        new BatchItem(2, null, "a/b.txt", "1 2".getBytes(StandardCharsets.UTF_8)))))
        .hasMessageContaining("Item 2 (a/b.txt) is not valid JSON (more than one JSON value)");
    assertError(() -> batches.upload(ACCOUNT, jobId, List.of(
        new BatchItem(2, 3, null, new byte[Batches.MAX_PAYLOAD_BYTES + 1]))), ErrorCode.InvalidParameterValueException);
    batches.upload(ACCOUNT, jobId, items(2, 3));

    var started = batches.start(ACCOUNT, jobId, 5);
    assertThat(started.state()).isEqualTo(BatchJobState.Running);
    assertThat(started.concurrency()).isEqualTo(5);
    assertThat(started.startedAt()).isNotNull();
    assertError(() -> batches.upload(ACCOUNT, jobId, items(0, 1)), ErrorCode.ResourceConflictException);
    assertThat(batches.start(ACCOUNT, jobId, 7)).as("already running: unchanged").isEqualTo(started);

    var paused = batches.pause(ACCOUNT, jobId);
    assertThat(paused.state()).isEqualTo(BatchJobState.Paused);
    assertThat(batches.pause(ACCOUNT, jobId)).isEqualTo(paused);
    var resumed = batches.start(ACCOUNT, jobId, null);
    assertThat(resumed.state()).isEqualTo(BatchJobState.Running);
    assertThat(resumed.startedAt()).as("the first start is kept").isEqualTo(started.startedAt());
    assertThat(resumed.concurrency()).isEqualTo(5);
  }

  @Test
  void failuresArePagedInIndexOrder() {
    var jobId = create("f", 5, null).status().job().jobId();
    batches.upload(ACCOUNT, jobId, items(0, 5));
    store.write(tx -> {
      tx.batches().claim(ACCOUNT, jobId, 5);
      tx.batches().record(ACCOUNT, jobId, List.of(new BatchOutcome.Failed(1, 2, "Error", "one"),
          new BatchOutcome.Failed(3, 2, "Error", "three"), new BatchOutcome.Failed(4, 2, "Error", "four"),
          new BatchOutcome.Succeeded(0, 1)));
      return null;
    });
    var first = batches.failures(ACCOUNT, jobId, null, 2);
    assertThat(first.items()).extracting(BatchFailure::index).containsExactly(1L, 3L);
    assertThat(first.nextMarker()).isEqualTo("3");
    var second = batches.failures(ACCOUNT, jobId, first.nextMarker(), 2);
    assertThat(second.items()).extracting(BatchFailure::index).containsExactly(4L);
    assertThat(second.nextMarker()).isNull();
    assertError(() -> batches.failures(ACCOUNT, jobId, "x", null), ErrorCode.InvalidParameterValueException);
  }

  @Test
  void listAndDelete() {
    var a = create("f", 1, null).status().job().jobId();
    var b = create("g", 1, null).status().job().jobId();
    assertThat(batches.list(ACCOUNT, null, null)).extracting(s -> s.job().jobId()).containsExactly(a, b);
    assertThat(batches.list(ACCOUNT, "g", null)).extracting(s -> s.job().jobId()).containsExactly(b);
    batches.delete(ACCOUNT, a);
    assertError(() -> batches.status(ACCOUNT, a), ErrorCode.ResourceNotFoundException);
    assertError(() -> batches.delete(ACCOUNT, a), ErrorCode.ResourceNotFoundException);
  }

  @Test
  void onlyWholeJsonValuesAreItems() {
    assertThat(Batches.jsonProblem(" {\"a\": [1, 2]}\n".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(Batches.jsonProblem("42".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(Batches.jsonProblem("\"text\"".getBytes(StandardCharsets.UTF_8))).isNull();
    assertThat(Batches.jsonProblem("".getBytes(StandardCharsets.UTF_8))).isEqualTo("it is empty");
    assertThat(Batches.jsonProblem("{} {}".getBytes(StandardCharsets.UTF_8))).isEqualTo("more than one JSON value");
    assertThat(Batches.jsonProblem("{\"a\":}".getBytes(StandardCharsets.UTF_8))).isNotNull();
    assertThat(Batches.jsonProblem("[1, 2".getBytes(StandardCharsets.UTF_8))).isNotNull();
    assertThat(Batches.jsonProblem("hello".getBytes(StandardCharsets.UTF_8))).isNotNull();
  }

  private static void assertError(ThrowingCallable call, ErrorCode code) {
    assertThatThrownBy(call).isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.code()).isEqualTo(code));
  }
}
