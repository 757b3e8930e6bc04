package dev.kiln.store;

import static dev.kiln.store.TestRecords.function;
import static dev.kiln.store.TestRecords.randomAccount;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.EventSourceMapping;
import dev.kiln.core.EventSourceMappingState;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every store must do with {@link StoreTransaction#eventSourceMappings()}. A subclass names the
 * database through {@link #config()}; each test works in its own random account.
 */
public abstract class EventSourceMappingStoreContract {
  private static final Instant MODIFIED = Instant.parse("2026-03-04T05:06:07.123456789Z");

  protected MetadataStore store;
  protected String account;

  protected abstract StoreConfig config();

  @BeforeEach
  void openStore() {
    store = Stores.open(config());
    account = randomAccount();
    store.write(tx -> {
      tx.insertFunction(function(account, "orders"));
      tx.insertFunction(function(account, "audit"));
      return null;
    });
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  private String queueArn(String name) {
    return "arn:aws:sqs:us-east-1:" + account + ":" + name;
  }

  private EventSourceMapping sqs(String uuid, String function, String qualifier, String queue) {
    return new EventSourceMapping(uuid, account, function, qualifier, queueArn(queue), null, null, null, 10, 0,
        List.of(EventSourceMapping.REPORT_BATCH_ITEM_FAILURES), null, List.of("{\"body\":{\"kind\":[\"a\"]}}"), null,
        5, true, EventSourceMappingState.Creating, "USER_INITIATED", MODIFIED, "No records processed");
  }

  private EventSourceMapping kafka(String uuid, String function, List<String> servers, String topic) {
    return new EventSourceMapping(uuid, account, function, null, null, servers, List.of(topic), null, 100, 1,
        null, "TRIM_HORIZON", null, "group-" + uuid, null, false, EventSourceMappingState.Disabled, null, MODIFIED,
        null);
  }

  private void insert(EventSourceMapping mapping) {
    store.write(tx -> {
      tx.eventSourceMappings().insert(mapping);
      return null;
    });
  }

  private Optional<EventSourceMapping> get(String owner, String uuid) {
    return store.read(tx -> tx.eventSourceMappings().mapping(owner, uuid));
  }

  private List<String> uuids(String function, String qualifier, String arn, String after, int limit) {
    List<EventSourceMapping> found =
        store.read(tx -> tx.eventSourceMappings().mappings(account, function, qualifier, arn, after, limit));
    return found.stream().map(EventSourceMapping::uuid).toList();
  }

  private boolean delete(String uuid) {
    Boolean deleted = store.write(tx -> tx.eventSourceMappings().delete(account, uuid));
    return deleted;
  }

  /** Unique per test (the database may be shared by a class's tests) and ordered by {@code n}. */
  private String uuid(int n) {
    return account + "-" + String.format("%04d", n);
  }

  @Test
  void givesBackExactlyWhatWasInserted() {
    var queue = sqs(uuid(1), "orders", "live", "jobs");
    var topic = kafka(uuid(2), "orders", List.of("b:9092", "a:9092"), "clicks");
    insert(queue);
    insert(topic);
    assertThat(get(account, uuid(1))).contains(queue);
    assertThat(get(account, uuid(2))).contains(topic);
    assertThat(get(randomAccount(), uuid(1))).isEmpty();
  }

  @Test
  void oneMappingPerFunctionQualifierAndSource() {
    insert(sqs(uuid(1), "orders", null, "jobs"));
    assertThatThrownBy(() -> insert(sqs(uuid(2), "orders", null, "jobs"))).isInstanceOf(DuplicateKeyException.class);
    // The same queue for another function, or another qualifier of the same function, is allowed.
    insert(sqs(uuid(3), "audit", null, "jobs"));
    insert(sqs(uuid(4), "orders", "live", "jobs"));
    // Kafka sources are the same whatever order the servers are listed in.
    insert(kafka(uuid(5), "orders", List.of("a:1", "b:2"), "t"));
    assertThatThrownBy(() -> insert(kafka(uuid(6), "orders", List.of("b:2", "a:1"), "t")))
        .isInstanceOf(DuplicateKeyException.class);
    insert(kafka(uuid(7), "orders", List.of("a:1", "b:2"), "other-topic"));
    // The duplicate left the transaction usable: the store still writes.
    assertThat(uuids(null, null, null, null, 100)).containsExactly(uuid(1), uuid(3), uuid(4), uuid(5), uuid(7));
  }

  @Test
  void aMappingOfAMissingFunctionIsRefused() {
    assertThatThrownBy(() -> insert(sqs(uuid(1), "nobody", null, "jobs"))).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void updatesReplaceTheDocumentAndKeepTheKeyRule() {
    insert(sqs(uuid(1), "orders", null, "jobs"));
    insert(sqs(uuid(2), "audit", null, "jobs"));
    var disabled = sqs(uuid(1), "orders", null, "jobs").withState(EventSourceMappingState.Disabling, "USER_INITIATED")
        .withLastProcessingResult("OK");
    store.write(tx -> {
      tx.eventSourceMappings().update(disabled);
      return null;
    });
    assertThat(get(account, uuid(1))).contains(disabled);

    // Pointing mapping 2 at "orders" would make a second orders/jobs mapping.
    var moved = sqs(uuid(2), "orders", null, "jobs");
    assertThatThrownBy(() -> store.write(tx -> {
      tx.eventSourceMappings().update(moved);
      return null;
    })).isInstanceOf(DuplicateKeyException.class);
    var movedToOtherFunction = sqs(uuid(2), "orders", "v2", "jobs");
    store.write(tx -> {
      tx.eventSourceMappings().update(movedToOtherFunction);
      return null;
    });
    assertThat(uuids("orders", "v2", null, null, 10)).containsExactly(uuid(2));
    assertThat(get(account, uuid(2))).contains(movedToOtherFunction);

    assertThatThrownBy(() -> store.write(tx -> {
      tx.eventSourceMappings().update(sqs(uuid(9), "orders", null, "elsewhere"));
      return null;
    })).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void listsFilterByFunctionAndSourceAndPageInUuidOrder() {
    for (int i = 1; i <= 5; i++) {
      insert(sqs(uuid(i), i % 2 == 0 ? "audit" : "orders", null, "q" + i));
    }
    insert(sqs(uuid(6), "orders", "live", "q1"));
    assertThat(uuids(null, null, null, null, 2)).containsExactly(uuid(1), uuid(2));
    assertThat(uuids(null, null, null, uuid(2), 2)).containsExactly(uuid(3), uuid(4));
    assertThat(uuids("orders", null, null, null, 10)).containsExactly(uuid(1), uuid(3), uuid(5), uuid(6));
    assertThat(uuids("orders", "", null, null, 10)).containsExactly(uuid(1), uuid(3), uuid(5));
    assertThat(uuids(null, null, queueArn("q1"), null, 10)).containsExactly(uuid(1), uuid(6));
    assertThat(uuids("audit", null, queueArn("q1"), null, 10)).isEmpty();
  }

  @Test
  void allListsEveryAccount() {
    var other = randomAccount();
    store.write(tx -> {
      tx.insertFunction(function(other, "orders"));
      return null;
    });
    String mine = UUID.randomUUID().toString();
    String theirs = UUID.randomUUID().toString();
    insert(sqs(mine, "orders", null, "jobs"));
    var foreign = new EventSourceMapping(theirs, other, "orders", null, "arn:aws:sqs:us-east-1:" + other + ":jobs",
        null, null, null, 10, 0, null, null, null, null, null, true, EventSourceMappingState.Enabled, null, MODIFIED,
        null);
    insert(foreign);
    List<EventSourceMapping> all = store.read(tx -> tx.eventSourceMappings().all());
    assertThat(all).extracting(EventSourceMapping::uuid).contains(mine, theirs);
  }

  @Test
  void deletingRemovesTheMappingAndDeletingTheFunctionRemovesAllOfIt() {
    insert(sqs(uuid(1), "orders", null, "a"));
    insert(sqs(uuid(2), "orders", "live", "b"));
    insert(sqs(uuid(3), "audit", null, "a"));
    assertThat(delete(uuid(1))).isTrue();
    assertThat(delete(uuid(1))).isFalse();
    store.write(tx -> {
      tx.deleteFunction(account, "orders");
      return null;
    });
    assertThat(uuids(null, null, null, null, 10)).containsExactly(uuid(3));
  }

  @Test
  void aReadTransactionCannotChangeMappings() {
    assertThatThrownBy(() -> store.read(tx -> {
      tx.eventSourceMappings().insert(sqs(uuid(1), "orders", null, "a"));
      return null;
    })).isInstanceOf(IllegalStateException.class);
  }
}
