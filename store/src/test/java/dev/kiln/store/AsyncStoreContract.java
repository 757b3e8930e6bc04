package dev.kiln.store;

import static dev.kiln.store.TestRecords.function;
import static dev.kiln.store.TestRecords.randomAccount;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.AsyncEvent;
import dev.kiln.core.EventInvokeConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every engine's {@link AsyncStore} must do: the durable queue of asynchronous invocations
 * (due order, claims as leases, release after a restart, cascade with the function) and the
 * event-invoke configurations. The queue is shared by all accounts, so each test removes its
 * functions (and with them their events) afterwards.
 */
public abstract class AsyncStoreContract {
  /** Whole milliseconds: the queue keeps times at millisecond precision. */
  protected static final Instant T0 = Instant.parse("2026-03-04T05:06:07.890Z");
  protected static final Instant LEASE = T0.plus(Duration.ofMinutes(20));

  protected MetadataStore store;
  protected String account;
  private final List<String> functions = new ArrayList<>();

  protected abstract StoreConfig config();

  @BeforeEach
  void openStore() {
    store = Stores.open(config());
    account = randomAccount();
  }

  @AfterEach
  void dropFunctionsAndCloseStore() {
    if (store != null) {
      store.write((StoreTransaction tx) -> {
        functions.forEach(name -> tx.deleteFunction(account, name));
        return null;
      });
      store.close();
    }
  }

  protected String createFunction(String name) {
    store.write((StoreTransaction tx) -> {
      tx.insertFunction(function(account, name));
      return null;
    });
    functions.add(name);
    return name;
  }

  protected AsyncEvent event(String functionName, String qualifier, Instant due) {
    return new AsyncEvent(UUID.randomUUID().toString(), account, functionName, qualifier,
        ("{\"n\":\"" + UUID.randomUUID() + "\"}").getBytes(StandardCharsets.UTF_8), "{\"custom\":{\"a\":\"b\"}}",
        T0.minusSeconds(5), 0, due);
  }

  protected boolean enqueue(AsyncEvent event) {
    return store.write((StoreTransaction tx) -> tx.async().enqueue(event, null, null));
  }

  protected List<AsyncEvent> claim(Instant now, String owner, int limit) {
    return store.write((StoreTransaction tx) -> tx.async().claimDue(now, owner, now.plus(Duration.ofMinutes(20)), limit, List.of()));
  }

  @Test
  void dueEventsAreClaimedOldestFirstWithEveryFieldIntact() {
    createFunction("f");
    var later = event("f", "live", T0.minusMillis(10));
    var first = event("f", null, T0.minusSeconds(3));
    var notYet = event("f", "1", T0.plusSeconds(30));
    var withoutContext = new AsyncEvent(UUID.randomUUID().toString(), account, "f", "$LATEST",
        "[1,2,3]".getBytes(StandardCharsets.UTF_8), null, T0, 2, T0);
    for (var e : List.of(later, first, notYet, withoutContext)) {
      assertThat(enqueue(e)).isTrue();
    }

    var claimed = claim(T0, "node-a", 10);

    assertThat(claimed).extracting(AsyncEvent::requestId)
        .containsExactly(first.requestId(), later.requestId(), withoutContext.requestId());
    assertSame(claimed.get(0), first);
    assertSame(claimed.get(1), later);
    assertSame(claimed.get(2), withoutContext);
    assertThat(store.read((StoreTransaction tx) -> tx.async().queued())).isGreaterThanOrEqualTo(4);
  }

  @Test
  void theLimitBoundsAClaim() {
    createFunction("f");
    for (int i = 0; i < 5; i++) {
      enqueue(event("f", null, T0.minusSeconds(10 - i)));
    }
    assertThat(claim(T0, "node-a", 2)).hasSize(2);
    assertThat(claim(T0, "node-a", 10)).hasSize(3);
    assertThat(claim(T0, "node-a", 10)).isEmpty();
  }

  @Test
  void aClaimPassesOverTheEventsOfExcludedFunctions() {
    createFunction("busy");
    createFunction("other");
    createFunction("third");
    for (int i = 0; i < 3; i++) {
      enqueue(event("busy", null, T0.minusSeconds(30 - i)));
    }
    var other = event("other", null, T0.minusSeconds(1));
    var third = event("third", "live", T0);
    enqueue(other);
    enqueue(third);
    var sameNameElsewhere = new AsyncStore.FunctionKey(randomAccount(), "other");

    var claimed = store.write((StoreTransaction tx) -> tx.async().claimDue(T0, "node-a", LEASE, 10,
        List.of(new AsyncStore.FunctionKey(account, "busy"), sameNameElsewhere)));

    assertThat(claimed).extracting(AsyncEvent::requestId).containsExactly(other.requestId(), third.requestId());
    assertThat(claim(T0, "node-a", 10)).as("no longer excluded").hasSize(3)
        .allMatch(e -> e.functionName().equals("busy"));
  }

  @Test
  void aClaimIsALeaseThatRunsOut() {
    createFunction("f");
    var e = event("f", null, T0);
    enqueue(e);
    assertThat(store.write((StoreTransaction tx) -> tx.async().claimDue(T0, "node-a", T0.plusSeconds(60), 10, List.of()))).hasSize(1);

    assertThat(claim(T0.plusSeconds(59), "node-b", 10)).as("still leased to node-a").isEmpty();
    var again = claim(T0.plusSeconds(60), "node-b", 10);
    assertThat(again).as("the lease ran out: delivered again").extracting(AsyncEvent::requestId)
        .containsExactly(e.requestId());
  }

  @Test
  void anEventAcceptedClaimedIsNotDueUntilItsClaimIsReleased() {
    createFunction("f");
    var e = event("f", null, T0);
    assertThat(store.write((StoreTransaction tx) -> tx.async().enqueue(e, "node-a", LEASE))).isTrue();
    assertThat(claim(T0.plusSeconds(1), "node-b", 10)).isEmpty();

    assertThat(store.write((StoreTransaction tx) -> tx.async().releaseClaims("node-b"))).isZero();
    assertThat(claim(T0.plusSeconds(1), "node-b", 10)).as("node-b's release leaves node-a's claims").isEmpty();
    assertThat(store.write((StoreTransaction tx) -> tx.async().releaseClaims("node-a"))).isEqualTo(1);
    assertThat(claim(T0.plusSeconds(1), "node-b", 10)).extracting(AsyncEvent::requestId)
        .containsExactly(e.requestId());
  }

  @Test
  void claimedByAndClaimedUntilGoTogether() {
    createFunction("f");
    assertThatThrownBy(() -> store.write((StoreTransaction tx) -> tx.async().enqueue(event("f", null, T0), "node-a", null)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rescheduleReleasesTheClaimAndSetsAttemptsAndDueTime() {
    createFunction("f");
    var e = event("f", null, T0);
    enqueue(e);
    claim(T0, "node-a", 10);
    store.write((StoreTransaction tx) -> {
      tx.async().reschedule(e.requestId(), 1, T0.plusSeconds(60));
      return null;
    });

    assertThat(claim(T0.plusSeconds(59), "node-a", 10)).isEmpty();
    var retried = claim(T0.plusSeconds(60), "node-a", 10);
    assertThat(retried).hasSize(1);
    assertThat(retried.getFirst().attempts()).isEqualTo(1);
    assertThat(retried.getFirst().nextAttemptAt()).isEqualTo(T0.plusSeconds(60));
  }

  @Test
  void removedEventsAreGone() {
    createFunction("f");
    var e = event("f", null, T0);
    enqueue(e);
    assertThat(store.write((StoreTransaction tx) -> tx.async().remove(e.requestId()))).isTrue();
    assertThat(store.write((StoreTransaction tx) -> tx.async().remove(e.requestId()))).isFalse();
    assertThat(claim(T0, "node-a", 10)).isEmpty();
  }

  @Test
  void anEventOfAMissingFunctionIsNotAccepted() {
    assertThat(enqueue(event("nowhere", null, T0))).isFalse();
    assertThat(claim(T0, "node-a", 10)).isEmpty();
  }

  @Test
  void deletingAFunctionDropsItsEventsAndConfigurations() {
    createFunction("doomed");
    createFunction("kept");
    enqueue(event("doomed", null, T0));
    enqueue(event("doomed", "live", T0));
    var kept = event("kept", null, T0);
    enqueue(kept);
    store.write((StoreTransaction tx) -> {
      tx.async().putConfig(account, "doomed", config("$LATEST", 1));
      tx.deleteFunction(account, "doomed");
      return null;
    });

    assertThat(claim(T0, "node-a", 10)).extracting(AsyncEvent::requestId).containsExactly(kept.requestId());
    assertThat(store.read((StoreTransaction tx) -> tx.async().configs(account, "doomed", null, 10))).isEmpty();
  }

  @Test
  void concurrentClaimersNeverGetTheSameEvent() throws Exception {
    createFunction("f");
    int total = 400;
    store.write((StoreTransaction tx) -> {
      for (int i = 0; i < total; i++) {
        tx.async().enqueue(event("f", null, T0.minusMillis(total - i)), null, null);
      }
      return null;
    });
    Set<String> seen = ConcurrentHashMap.newKeySet();
    var duplicates = new AtomicInteger();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      var claimers = new ArrayList<Future<?>>();
      for (int c = 0; c < 8; c++) {
        String owner = "node-" + c;
        claimers.add(executor.submit(() -> {
          for (var batch = claim(T0, owner, 7); !batch.isEmpty(); batch = claim(T0, owner, 7)) {
            batch.forEach(e -> {
              if (!seen.add(e.requestId())) {
                duplicates.incrementAndGet();
              }
            });
          }
          return null;
        }));
      }
      for (var claimer : claimers) {
        claimer.get();
      }
    }
    assertThat(duplicates).hasValue(0);
    assertThat(seen).hasSize(total);
  }

  // ---- event-invoke configurations

  @Test
  void configurationsArePutReplacedListedAndDeleted() {
    createFunction("f");
    var latest = new EventInvokeConfig("$LATEST", 0, 3600, "arn:aws:lambda:us-east-1:" + account + ":function:ok",
        "arn:aws:sqs:us-east-1:" + account + ":failed", T0);
    store.write((StoreTransaction tx) -> {
      tx.async().putConfig(account, "f", latest);
      tx.async().putConfig(account, "f", config("live", 2));
      tx.async().putConfig(account, "f", config("1", null));
      return null;
    });

    assertThat(store.read((StoreTransaction tx) -> tx.async().config(account, "f", "$LATEST"))).contains(latest);
    assertThat(store.read((StoreTransaction tx) -> tx.async().config(account, "f", "2"))).isEmpty();
    assertThat(store.read((StoreTransaction tx) -> tx.async().configs(account, "f", null, 10))).extracting(EventInvokeConfig::qualifier)
        .containsExactly("$LATEST", "1", "live");
    assertThat(store.read((StoreTransaction tx) -> tx.async().configs(account, "f", "$LATEST", 1))).extracting(EventInvokeConfig::qualifier)
        .containsExactly("1");

    var replaced = config("$LATEST", 1);
    store.write((StoreTransaction tx) -> {
      tx.async().putConfig(account, "f", replaced);
      return null;
    });
    assertThat(store.read((StoreTransaction tx) -> tx.async().config(account, "f", "$LATEST"))).contains(replaced);

    assertThat(store.write((StoreTransaction tx) -> tx.async().deleteConfig(account, "f", "live"))).isTrue();
    assertThat(store.write((StoreTransaction tx) -> tx.async().deleteConfig(account, "f", "live"))).isFalse();
    assertThat(store.read((StoreTransaction tx) -> tx.async().configs(account, "f", null, 10))).extracting(EventInvokeConfig::qualifier)
        .containsExactly("$LATEST", "1");
  }

  @Test
  void aConfigurationOfAMissingFunctionIsACallerBug() {
    assertThatThrownBy(() -> store.write((StoreTransaction tx) -> {
      tx.async().putConfig(account, "nowhere", config("$LATEST", 1));
      return null;
    })).isInstanceOf(IllegalStateException.class);
  }

  private static EventInvokeConfig config(String qualifier, Integer retries) {
    return new EventInvokeConfig(qualifier, retries, null, null, null, T0);
  }

  private static void assertSame(AsyncEvent actual, AsyncEvent expected) {
    assertThat(actual.requestId()).isEqualTo(expected.requestId());
    assertThat(actual.account()).isEqualTo(expected.account());
    assertThat(actual.functionName()).isEqualTo(expected.functionName());
    assertThat(actual.qualifier()).isEqualTo(expected.qualifier());
    assertThat(actual.payload()).isEqualTo(expected.payload());
    assertThat(actual.clientContext()).isEqualTo(expected.clientContext());
    assertThat(actual.acceptedAt()).isEqualTo(expected.acceptedAt());
    assertThat(actual.attempts()).isEqualTo(expected.attempts());
    assertThat(actual.nextAttemptAt()).isEqualTo(expected.nextAttemptAt());
  }
}
