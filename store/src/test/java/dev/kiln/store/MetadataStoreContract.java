package dev.kiln.store;

import static dev.kiln.store.TestRecords.alias;
import static dev.kiln.store.TestRecords.function;
import static dev.kiln.store.TestRecords.randomAccount;
import static dev.kiln.store.TestRecords.randomCode;
import static dev.kiln.store.TestRecords.version;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.Alias;
import dev.kiln.core.CodeRef;
import dev.kiln.core.Credential;
import dev.kiln.core.FunctionRecord;
import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.LastUpdateStatus;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * What every {@link MetadataStore} must do. A subclass says which database to use through {@link
 * #config()}; each test opens the store on it, works in its own random account and closes the
 * store afterwards, so the database may be shared by all tests of a class.
 */
public abstract class MetadataStoreContract {
  protected MetadataStore store;
  protected String account;

  /** The database under test; the same for every call within one test (tests reopen it). */
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

  protected void createFunction(String name) {
    store.write(tx -> {
      tx.insertFunction(function(account, name));
      return null;
    });
  }

  @Nested
  class Credentials {
    @Test
  void listsTheAccountsThatHaveCredentials() {
    var a = TestRecords.randomAccount();
    var b = TestRecords.randomAccount();
    store.write(tx -> {
      tx.insertCredential(new dev.kiln.core.Credential("AKIDLISTA" + a, "s", a));
      tx.insertCredential(new dev.kiln.core.Credential("AKIDLISTB" + b, "s", b));
      tx.insertCredential(new dev.kiln.core.Credential("AKIDLISTC" + b, "s", b));
      return null;
    });
    assertThat(store.read(StoreTransaction::accounts)).contains(a, b).doesNotHaveDuplicates();
  }

  @Test
    void insertedCredentialIsFoundByKeyAndListedOldestFirst() {
      var keys = List.of("AKIAZZZZ" + account, "AKIAAAAA" + account, "AKIAMMMM" + account);
      for (String key : keys) {
        store.write(tx -> {
          tx.insertCredential(new Credential(key, "secret-" + key, account));
          return null;
        });
      }
      var other = new Credential("AKIAOTHER" + account, "s", randomAccount());
      store.write(tx -> {
        tx.insertCredential(other);
        return null;
      });

      assertThat(store.read((StoreTransaction tx) -> tx.credential(keys.get(1))))
          .contains(new Credential(keys.get(1), "secret-" + keys.get(1), account));
      assertThat(store.read((StoreTransaction tx) -> tx.credentials(account)))
          .extracting(Credential::accessKeyId)
          .containsExactlyElementsOf(keys);
      assertThat(store.read((StoreTransaction tx) -> tx.credential("AKIA-NONE-" + account))).isEmpty();
      assertThat(store.read((StoreTransaction tx) -> tx.credentials(randomAccount()))).isEmpty();
    }

    @Test
    void duplicateAccessKeyIsRejected() {
      var credential = new Credential("AKIADUP" + account, "secret", account);
      store.write(tx -> {
        tx.insertCredential(credential);
        return null;
      });

      assertThatThrownBy(() -> store.write(tx -> {
            tx.insertCredential(new Credential(credential.accessKeyId(), "other", randomAccount()));
            return null;
          }))
          .isInstanceOf(DuplicateKeyException.class);
      assertThat(store.read((StoreTransaction tx) -> tx.credential(credential.accessKeyId()))).contains(credential);
    }
  }

  @Nested
  class Functions {
    @Test
    void insertReadUpdateDelete() {
      var created = function(account, "fn");
      store.write(tx -> {
        tx.insertFunction(created);
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.function(account, "fn"))).contains(created);

      var updated = created.withTags(Map.of("new", "tag")).withLastPublishedVersion(7);
      store.write(tx -> {
        tx.updateFunction(updated);
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.function(account, "fn"))).contains(updated);

      store.write(tx -> {
        tx.deleteFunction(account, "fn");
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.function(account, "fn"))).isEmpty();
    }

    @Test
    void functionsAreScopedToTheirAccount() {
      createFunction("shared-name");
      assertThat(store.read((StoreTransaction tx) -> tx.function(randomAccount(), "shared-name"))).isEmpty();
      store.write(tx -> {
        tx.insertFunction(function(randomAccount(), "shared-name"));
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.functionCount(account))).isEqualTo(1);
    }

    @Test
    void duplicateFunctionIsRejected() {
      createFunction("fn");
      assertThatThrownBy(() -> createFunction("fn")).isInstanceOf(DuplicateKeyException.class);
    }

    @Test
    void transactionStaysUsableAfterADuplicateKey() {
      createFunction("taken");
      store.write(tx -> {
        assertThatThrownBy(() -> tx.insertFunction(function(account, "taken")))
            .isInstanceOf(DuplicateKeyException.class);
        tx.insertFunction(function(account, "free"));
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.function(account, "free"))).isPresent();
    }

    @Test
    void updatingAMissingFunctionIsACallerBug() {
      assertThatThrownBy(() -> store.write(tx -> {
            tx.updateFunction(function(account, "missing"));
            return null;
          }))
          .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void deletingAMissingFunctionDoesNothing() {
      store.write(tx -> {
        tx.deleteFunction(account, "missing");
        return null;
      });
    }

    @Test
    void listedByNameInByteOrderAndPaged() {
      // ASCII order: '-' < digits < upper case < '_' < lower case, on every engine and locale.
      var names = List.of("alpha", "Beta", "_under", "a-b", "a_b", "a1", "zeta", "Zeta", "m");
      names.forEach(MetadataStoreContract.this::createFunction);
      var expected = names.stream().sorted().toList();

      assertThat(store.read((StoreTransaction tx) -> tx.functions(account, null, 50)))
          .extracting(FunctionRecord::name)
          .containsExactlyElementsOf(expected);

      List<String> paged = new ArrayList<>();
      String marker = null;
      while (true) {
        String after = marker;
        var page = store.read(tx -> tx.functions(account, after, 2));
        if (page.isEmpty()) {
          break;
        }
        assertThat(page.size()).isLessThanOrEqualTo(2);
        page.forEach(f -> paged.add(f.name()));
        marker = page.getLast().name();
      }
      assertThat(paged).containsExactlyElementsOf(expected);
      assertThat(store.read((StoreTransaction tx) -> tx.functions(account, "zzz", 10))).isEmpty();
      assertThat(store.read((StoreTransaction tx) -> tx.functionCount(account))).isEqualTo(names.size());
    }

    @Test
    void nonPositiveLimitIsRejected() {
      assertThatThrownBy(() -> store.read(tx -> tx.functions(account, null, 0)))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Nested
  class Versions {
    @Test
    void putReplacesAndRoundTripsEveryField() {
      createFunction("fn");
      var latest = version(account, "fn", FunctionVersion.LATEST, randomCode(100));
      store.write(tx -> {
        tx.putVersion(latest);
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.version(account, "fn", FunctionVersion.LATEST))).contains(latest);

      var changed = latest.withStatus(FunctionState.Pending, LastUpdateStatus.InProgress, "rev-2");
      store.write(tx -> {
        tx.putVersion(changed);
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.version(account, "fn", FunctionVersion.LATEST))).contains(changed);
      assertThat(store.read((StoreTransaction tx) -> tx.version(account, "fn", "1"))).isEmpty();
    }

    @Test
    void versionWithoutCodeIsStored() {
      createFunction("fn");
      var noCode = version(account, "fn", FunctionVersion.LATEST, null);
      store.write(tx -> {
        tx.putVersion(noCode);
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.version(account, "fn", FunctionVersion.LATEST))).contains(noCode);
      assertThat(store.read((StoreTransaction tx) -> tx.totalCodeSize(account))).isZero();
    }

    @Test
    void versionOfAMissingFunctionIsACallerBug() {
      assertThatThrownBy(() -> store.write(tx -> {
            tx.putVersion(version(account, "missing", "1", randomCode(1)));
            return null;
          }))
          .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void versionThatIsNeitherLatestNorANumberIsRejected() {
      createFunction("fn");
      for (String bad : List.of("latest", "01", "0", "-1", "1.0", "")) {
        assertThatThrownBy(() -> store.write(tx -> {
              tx.putVersion(version(account, "fn", bad, randomCode(1)));
              return null;
            }))
            .as(bad)
            .isInstanceOf(IllegalArgumentException.class);
      }
    }

    @Test
    void listedLatestFirstThenNumericallyAndPaged() {
      createFunction("fn");
      var numbers = new ArrayList<>(IntStream.rangeClosed(1, 12).boxed().toList());
      Collections.shuffle(numbers);
      store.write(tx -> {
        for (int n : numbers) {
          tx.putVersion(version(account, "fn", String.valueOf(n), randomCode(n)));
        }
        tx.putVersion(version(account, "fn", FunctionVersion.LATEST, randomCode(1)));
        return null;
      });
      var expected = new ArrayList<String>();
      expected.add(FunctionVersion.LATEST);
      IntStream.rangeClosed(1, 12).forEach(n -> expected.add(String.valueOf(n)));

      assertThat(store.read((StoreTransaction tx) -> tx.versions(account, "fn", null, 50)))
          .extracting(FunctionVersion::version)
          .containsExactlyElementsOf(expected);
      assertThat(store.read((StoreTransaction tx) -> tx.versions(account, "fn", null, 3)))
          .extracting(FunctionVersion::version)
          .containsExactly("$LATEST", "1", "2");
      assertThat(store.read((StoreTransaction tx) -> tx.versions(account, "fn", "$LATEST", 3)))
          .extracting(FunctionVersion::version)
          .containsExactly("1", "2", "3");
      assertThat(store.read((StoreTransaction tx) -> tx.versions(account, "fn", "9", 50)))
          .extracting(FunctionVersion::version)
          .containsExactly("10", "11", "12");
      assertThat(store.read((StoreTransaction tx) -> tx.versions(account, "fn", "12", 50))).isEmpty();
      assertThatThrownBy(() -> store.read(tx -> tx.versions(account, "fn", "bogus", 5)))
          .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void deletedVersionIsGoneAndItsNumberStaysFree() {
      createFunction("fn");
      store.write(tx -> {
        tx.putVersion(version(account, "fn", "1", randomCode(1)));
        tx.putVersion(version(account, "fn", "2", randomCode(1)));
        return null;
      });
      store.write(tx -> {
        tx.deleteVersion(account, "fn", "1");
        tx.deleteVersion(account, "fn", "99");
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.versions(account, "fn", null, 10)))
          .extracting(FunctionVersion::version)
          .containsExactly("2");
    }

    @Test
    void versionsAwaitingActivationAreThosePendingOrInProgress() {
      createFunction("a");
      createFunction("b");
      var pending = version(account, "a", FunctionVersion.LATEST, randomCode(1))
          .withStatus(FunctionState.Pending, LastUpdateStatus.Successful, "r1");
      var updating = version(account, "b", FunctionVersion.LATEST, randomCode(1))
          .withStatus(FunctionState.Active, LastUpdateStatus.InProgress, "r2");
      var active = version(account, "a", "1", randomCode(1));
      var failed = version(account, "b", "1", randomCode(1))
          .withStatus(FunctionState.Failed, LastUpdateStatus.Failed, "r3");
      store.write(tx -> {
        List.of(updating, active, failed, pending).forEach(tx::putVersion);
        return null;
      });

      assertThat(store.read(StoreTransaction::versionsAwaitingActivation))
          .filteredOn(v -> v.account().equals(account))
          .containsExactly(pending, updating);

      store.write(tx -> {
        tx.putVersion(pending.withStatus(FunctionState.Active, LastUpdateStatus.Successful, "r4"));
        return null;
      });
      assertThat(store.read(StoreTransaction::versionsAwaitingActivation))
          .filteredOn(v -> v.account().equals(account))
          .containsExactly(updating);
    }
  }

  @Nested
  class Aliases {
    @Test
    void putReplaceListAndDelete() {
      createFunction("fn");
      var live = alias(account, "fn", "live", "1");
      var beta = alias(account, "fn", "beta", "2");
      var upper = alias(account, "fn", "Upper", "2");
      store.write(tx -> {
        List.of(live, beta, upper).forEach(tx::putAlias);
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.alias(account, "fn", "live"))).contains(live);
      assertThat(store.read((StoreTransaction tx) -> tx.aliases(account, "fn")))
          .extracting(Alias::name)
          .containsExactly("Upper", "beta", "live");

      var moved = new Alias(account, "fn", "live", "3", "moved", Map.of(), "rev-moved");
      store.write(tx -> {
        tx.putAlias(moved);
        tx.deleteAlias(account, "fn", "beta");
        tx.deleteAlias(account, "fn", "never-existed");
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.alias(account, "fn", "live"))).contains(moved);
      assertThat(store.read((StoreTransaction tx) -> tx.alias(account, "fn", "beta"))).isEmpty();
      assertThat(store.read((StoreTransaction tx) -> tx.aliases(account, "fn"))).extracting(Alias::name).containsExactly("Upper", "live");
    }

    @Test
    void aliasOfAMissingFunctionIsACallerBug() {
      assertThatThrownBy(() -> store.write(tx -> {
            tx.putAlias(alias(account, "missing", "live", "1"));
            return null;
          }))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Nested
  class DeletingAFunction {
    @Test
    void removesItsVersionsAndAliasesButNothingElse() {
      createFunction("doomed");
      createFunction("kept");
      store.write(tx -> {
        for (String fn : List.of("doomed", "kept")) {
          tx.putVersion(version(account, fn, FunctionVersion.LATEST, randomCode(10)));
          tx.putVersion(version(account, fn, "1", randomCode(10)));
          tx.putAlias(alias(account, fn, "live", "1"));
        }
        return null;
      });

      store.write(tx -> {
        tx.deleteFunction(account, "doomed");
        return null;
      });

      store.read(tx -> {
        assertThat(tx.versions(account, "doomed", null, 10)).isEmpty();
        assertThat(tx.aliases(account, "doomed")).isEmpty();
        assertThat(tx.versions(account, "kept", null, 10)).hasSize(2);
        assertThat(tx.aliases(account, "kept")).hasSize(1);
        return null;
      });
      // A new function of the same name starts empty.
      createFunction("doomed");
      assertThat(store.read((StoreTransaction tx) -> tx.versions(account, "doomed", null, 10))).isEmpty();
    }
  }

  @Nested
  class CodeAccounting {
    @Test
    void codeInUseWhileAnyVersionInAnyAccountUsesIt() {
      CodeRef shared = randomCode(1000);
      String otherAccount = randomAccount();
      store.write(tx -> {
        tx.insertFunction(function(account, "fn"));
        tx.insertFunction(function(otherAccount, "fn"));
        tx.putVersion(version(account, "fn", FunctionVersion.LATEST, shared));
        tx.putVersion(version(otherAccount, "fn", "1", shared));
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.codeInUse(shared.sha256Hex()))).isTrue();

      store.write(tx -> {
        tx.deleteFunction(account, "fn");
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.codeInUse(shared.sha256Hex()))).isTrue();

      store.write(tx -> {
        tx.deleteVersion(otherAccount, "fn", "1");
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.codeInUse(shared.sha256Hex()))).isFalse();
      assertThat(store.read((StoreTransaction tx) -> tx.codeInUse(randomCode(1).sha256Hex()))).isFalse();
    }

    @Test
    void totalCodeSizeSumsEveryVersionOfTheAccount() {
      assertThat(store.read((StoreTransaction tx) -> tx.totalCodeSize(account))).isZero();
      assertThat(store.read((StoreTransaction tx) -> tx.functionCount(account))).isZero();
      CodeRef code = randomCode(1000);
      store.write(tx -> {
        tx.insertFunction(function(account, "a"));
        tx.insertFunction(function(account, "b"));
        tx.putVersion(version(account, "a", FunctionVersion.LATEST, code));
        tx.putVersion(version(account, "a", "1", code));
        tx.putVersion(version(account, "b", FunctionVersion.LATEST, randomCode(5_000_000_000L)));
        tx.insertFunction(function(randomAccount(), "a"));
        return null;
      });
      assertThat(store.read((StoreTransaction tx) -> tx.totalCodeSize(account))).isEqualTo(2000 + 5_000_000_000L);
      assertThat(store.read((StoreTransaction tx) -> tx.functionCount(account))).isEqualTo(2);
    }
  }

  @Nested
  class Transactions {
    @Test
    void exceptionRollsBackEverythingAndPropagatesUnchanged() {
      createFunction("fn");
      var failure = new IllegalStateException("boom");
      assertThatThrownBy(() -> store.write(tx -> {
            tx.insertFunction(function(account, "new"));
            tx.putVersion(version(account, "fn", "1", randomCode(1)));
            tx.updateFunction(function(account, "fn").withLastPublishedVersion(1));
            throw failure;
          }))
          .isSameAs(failure);

      store.read(tx -> {
        assertThat(tx.function(account, "new")).isEmpty();
        assertThat(tx.version(account, "fn", "1")).isEmpty();
        assertThat(tx.function(account, "fn").orElseThrow().lastPublishedVersion()).isZero();
        return null;
      });
      // The store is still usable after a rollback.
      createFunction("after");
      assertThat(store.read((StoreTransaction tx) -> tx.function(account, "after"))).isPresent();
    }

    @Test
    void writeReturnsTheValueOfItsWork() {
      assertThat(store.write((StoreTransaction tx) -> "result")).isEqualTo("result");
      assertThat(store.read((StoreTransaction tx) -> 42)).isEqualTo(42);
    }

    @Test
    void readTransactionRefusesChanges() {
      assertThatThrownBy(() -> store.read(tx -> {
            tx.insertFunction(function(account, "fn"));
            return null;
          }))
          .isInstanceOf(IllegalStateException.class);
      assertThat(store.read((StoreTransaction tx) -> tx.function(account, "fn"))).isEmpty();
    }

    @Test
    void transactionCannotBeUsedAfterItsBlock() {
      var escaped = new AtomicReference<StoreTransaction>();
      store.write(tx -> {
        escaped.set(tx);
        return null;
      });
      assertThatThrownBy(() -> escaped.get().function(account, "fn")).isInstanceOf(IllegalStateException.class);
      store.read(tx -> {
        escaped.set(tx);
        return null;
      });
      assertThatThrownBy(() -> escaped.get().functionCount(account)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void nestedWriteIsRefused() {
      assertThatThrownBy(() -> store.write(outer -> store.write(inner -> null)))
          .isInstanceOf(IllegalStateException.class);
      // Refusing it left the store usable.
      createFunction("fn");
    }

    @Test
    void readersSeeOnlyCommittedChanges() throws Exception {
      var inserted = new CountDownLatch(1);
      var mayCommit = new CountDownLatch(1);
      try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
        Future<?> writer = executor.submit(() -> store.write(tx -> {
          tx.insertFunction(function(account, "fn"));
          inserted.countDown();
          await(mayCommit);
          return null;
        }));
        assertThat(inserted.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(store.read((StoreTransaction tx) -> tx.function(account, "fn"))).isEmpty();
        mayCommit.countDown();
        writer.get(30, TimeUnit.SECONDS);
      }
      assertThat(store.read((StoreTransaction tx) -> tx.function(account, "fn"))).isPresent();
    }

    @Test
    void closedStoreRefusesWork() {
      store.close();
      assertThatThrownBy(() -> store.read(tx -> null)).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(() -> store.write(tx -> null)).isInstanceOf(IllegalStateException.class);
      store.close(); // closing twice is harmless
    }
  }

  @Nested
  class Concurrency {
    @Test
    void readModifyWriteOfOneFunctionIsSerialized() throws Exception {
      createFunction("counter");
      int threads = 8;
      int increments = 50;
      try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          futures.add(executor.submit(() -> {
            for (int i = 0; i < increments; i++) {
              store.write(tx -> {
                var current = tx.function(account, "counter").orElseThrow();
                tx.updateFunction(current.withLastPublishedVersion(current.lastPublishedVersion() + 1));
                return null;
              });
            }
            return null;
          }));
        }
        for (var future : futures) {
          future.get(120, TimeUnit.SECONDS);
        }
      }
      assertThat(store.read((StoreTransaction tx) -> tx.function(account, "counter")).orElseThrow().lastPublishedVersion())
          .isEqualTo(threads * increments);
    }

    @Test
    void concurrentCreatesOfOneFunctionLetExactlyOneWin() throws Exception {
      int threads = 8;
      List<Future<Boolean>> futures = new ArrayList<>();
      try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
        var start = new CountDownLatch(1);
        for (int t = 0; t < threads; t++) {
          futures.add(executor.submit(() -> {
            await(start);
            try {
              createFunction("race");
              return true;
            } catch (DuplicateKeyException e) {
              return false;
            }
          }));
        }
        start.countDown();
        int winners = 0;
        for (var future : futures) {
          winners += future.get(60, TimeUnit.SECONDS) ? 1 : 0;
        }
        assertThat(winners).isEqualTo(1);
      }
    }

    @Test
    void manyConcurrentReadersAndWriters() throws Exception {
      int functions = 20;
      try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<?>> futures = new ArrayList<>();
        for (int f = 0; f < functions; f++) {
          String name = "fn-" + f;
          futures.add(executor.submit(() -> createFunction(name)));
          futures.add(executor.submit(() -> store.read(tx -> tx.functions(account, null, 50))));
        }
        for (var future : futures) {
          future.get(60, TimeUnit.SECONDS);
        }
      }
      assertThat(store.read((StoreTransaction tx) -> tx.functionCount(account))).isEqualTo(functions);
    }
  }

  @Nested
  class Durability {
    @Test
    void committedDataSurvivesCloseAndReopen() {
      var fn = function(account, "fn");
      var latest = version(account, "fn", FunctionVersion.LATEST, randomCode(10));
      var live = alias(account, "fn", "live", "$LATEST");
      var key = new Credential("AKIADURABLE" + account, "secret", account);
      store.write(tx -> {
        tx.insertCredential(key);
        tx.insertFunction(fn);
        tx.putVersion(latest);
        tx.putAlias(live);
        return null;
      });
      store.close();

      store = Stores.open(config());
      store.read(tx -> {
        assertThat(tx.credential(key.accessKeyId())).contains(key);
        assertThat(tx.function(account, "fn")).contains(fn);
        assertThat(tx.version(account, "fn", FunctionVersion.LATEST)).contains(latest);
        assertThat(tx.alias(account, "fn", "live")).contains(live);
        return null;
      });
    }

    @Test
    void acknowledgedWriteSurvivesKillMinus9() throws Exception {
      ChildJvm.runAndKill(crashingWriterArguments(config(), account, "crash"));

      assertThat(store.read((StoreTransaction tx) -> tx.function(account, "crash"))).isPresent();
      store.close();
      store = Stores.open(config());
      assertThat(store.read((StoreTransaction tx) -> tx.version(account, "crash", FunctionVersion.LATEST))).isPresent();
    }
  }

  private static String[] crashingWriterArguments(StoreConfig config, String account, String function) {
    return switch (config) {
      case StoreConfig.Sqlite sqlite -> new String[] {"sqlite", sqlite.file().toString(), account, function};
      case StoreConfig.Postgres pg ->
          new String[] {"postgres", pg.jdbcUrl(), pg.user(), Optional.ofNullable(pg.password()).orElse(""), account,
              function};
    };
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("timed out waiting");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
