package dev.kiln.store;

import static dev.kiln.store.TestRecords.alias;
import static dev.kiln.store.TestRecords.function;
import static dev.kiln.store.TestRecords.randomAccount;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.FunctionUrlConfig;
import dev.kiln.core.FunctionUrlConfig.AuthType;
import dev.kiln.core.FunctionUrlConfig.Cors;
import dev.kiln.core.FunctionUrlConfig.InvokeMode;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link FunctionUrlStore} must do on every engine. Each test works in its own random account
 * with random url ids, so the subclasses may share one database.
 */
public abstract class FunctionUrlStoreContract {
  private static final Instant CREATED = Instant.parse("2026-03-04T05:06:07.123456Z");

  private MetadataStore store;
  private String account;

  /** The database under test; the same for every call within one test. */
  protected abstract StoreConfig config();

  @BeforeEach
  void openStore() {
    store = Stores.open(config());
    account = randomAccount();
    store.write(tx -> {
      tx.insertFunction(function(account, "fn"));
      tx.putAlias(alias(account, "fn", "live", "$LATEST"));
      tx.insertFunction(function(account, "other"));
      return null;
    });
  }

  @AfterEach
  void closeStore() {
    if (store != null) {
      store.close();
    }
  }

  private static String randomUrlId() {
    var chars = "abcdefghijklmnopqrstuvwxyz0123456789";
    var id = new StringBuilder();
    for (int i = 0; i < 32; i++) {
      id.append(chars.charAt(ThreadLocalRandom.current().nextInt(chars.length())));
    }
    return id.toString();
  }

  private FunctionUrlConfig urlConfig(String function, String qualifier) {
    var cors = new Cors(true, List.of("x-custom"), List.of("GET", "POST"), List.of("https://example.com"),
        List.of("x-exposed"), 300);
    return new FunctionUrlConfig(account, function, qualifier, randomUrlId(), AuthType.AWS_IAM, cors,
        InvokeMode.RESPONSE_STREAM, CREATED, CREATED.plusSeconds(1));
  }

  private Optional<FunctionUrlConfig> byId(String urlId) {
    return store.read(tx -> tx.functionUrls().functionUrlById(urlId));
  }

  private Optional<FunctionUrlConfig> byKey(String function, String qualifier) {
    return store.read(tx -> tx.functionUrls().functionUrl(account, function, qualifier));
  }

  private List<FunctionUrlConfig> list(String function, String afterQualifier, int limit) {
    return store.read(tx -> tx.functionUrls().functionUrls(account, function, afterQualifier, limit));
  }

  private boolean delete(String function, String qualifier) {
    return store.write(tx -> tx.functionUrls().deleteFunctionUrl(account, function, qualifier));
  }

  private boolean insert(FunctionUrlConfig config) {
    return store.write(tx -> tx.functionUrls().insertFunctionUrl(config));
  }

  @Test
  void storesAndFindsAConfigurationByKeyAndByUrlId() {
    var config = urlConfig("fn", FunctionUrlConfig.UNQUALIFIED);
    assertThat(insert(config)).isTrue();

    assertThat(byKey("fn", "$LATEST")).contains(config);
    assertThat(byId(config.urlId())).contains(config);
    assertThat(byKey("fn", "live")).isEmpty();
    assertThat(byId(randomUrlId())).isEmpty();
  }

  @Test
  void keepsNullMembersAndMissingCors() {
    var bare = new FunctionUrlConfig(account, "fn", "live", randomUrlId(), AuthType.NONE, null, null, CREATED,
        CREATED);
    insert(bare);
    var read = byKey("fn", "live").orElseThrow();
    assertThat(read).isEqualTo(bare);
    assertThat(read.cors()).isNull();
    assertThat(read.effectiveInvokeMode()).isEqualTo(InvokeMode.BUFFERED);
  }

  @Test
  void aSecondConfigurationForTheSameQualifierIsADuplicate() {
    insert(urlConfig("fn", "live"));
    assertThatThrownBy(() -> insert(urlConfig("fn", "live"))).isInstanceOf(DuplicateKeyException.class);
    assertThat(insert(urlConfig("fn", FunctionUrlConfig.UNQUALIFIED))).isTrue();
  }

  @Test
  void aTakenUrlIdIsReportedSoTheCallerDrawsAnother() {
    var first = urlConfig("fn", "live");
    insert(first);
    var clash = new FunctionUrlConfig(account, "other", "$LATEST", first.urlId(), AuthType.NONE, null, null,
        CREATED, CREATED);
    assertThat(insert(clash)).isFalse();
    assertThat(byKey("other", "$LATEST")).isEmpty();
    assertThat(byId(first.urlId())).contains(first);
  }

  @Test
  void aConfigurationNeedsItsFunction() {
    assertThatThrownBy(() -> insert(urlConfig("missing", FunctionUrlConfig.UNQUALIFIED)))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void updatesReplaceTheDocumentButKeepTheUrlId() {
    var config = urlConfig("fn", "live");
    insert(config);
    var changed = config.withChanges(AuthType.NONE, null, InvokeMode.BUFFERED, CREATED.plusSeconds(60));
    store.write(tx -> {
      tx.functionUrls().updateFunctionUrl(changed);
      return null;
    });
    assertThat(byId(config.urlId())).contains(changed);

    var stranger = urlConfig("fn", FunctionUrlConfig.UNQUALIFIED);
    assertThatThrownBy(() -> store.write(tx -> {
      tx.functionUrls().updateFunctionUrl(stranger);
      return null;
    })).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void deletesOneConfiguration() {
    var config = urlConfig("fn", "live");
    insert(config);
    insert(urlConfig("fn", FunctionUrlConfig.UNQUALIFIED));
    assertThat(delete("fn", "live")).isTrue();
    assertThat(delete("fn", "live")).isFalse();
    assertThat(byId(config.urlId())).isEmpty();
    assertThat(byKey("fn", "$LATEST")).isPresent();
  }

  @Test
  void deletingTheFunctionDeletesItsUrls() {
    var own = urlConfig("fn", FunctionUrlConfig.UNQUALIFIED);
    var aliased = urlConfig("fn", "live");
    var other = urlConfig("other", FunctionUrlConfig.UNQUALIFIED);
    insert(own);
    insert(aliased);
    insert(other);
    store.write(tx -> {
      tx.deleteFunction(account, "fn");
      return null;
    });
    assertThat(byId(own.urlId())).isEmpty();
    assertThat(byId(aliased.urlId())).isEmpty();
    assertThat(byId(other.urlId())).contains(other);
    // A new function of the same name starts without URLs.
    store.write(tx -> {
      tx.insertFunction(function(account, "fn"));
      return null;
    });
    assertThat(list("fn", null, 10)).isEmpty();
  }

  @Test
  void listsInQualifierOrderWithTheFunctionsOwnUrlFirstAndPages() {
    store.write(tx -> {
      for (var name : List.of("beta", "Alpha", "alpha-2", "9lives", "z_last")) {
        tx.putAlias(alias(account, "fn", name, "$LATEST"));
      }
      return null;
    });
    for (var qualifier : List.of("z_last", "beta", "$LATEST", "alpha-2", "Alpha", "9lives", "live")) {
      insert(urlConfig("fn", qualifier));
    }
    insert(urlConfig("other", FunctionUrlConfig.UNQUALIFIED));

    var all = list("fn", null, 100);
    assertThat(all).extracting(FunctionUrlConfig::qualifier)
        .containsExactly("$LATEST", "9lives", "Alpha", "alpha-2", "beta", "live", "z_last");

    var first = list("fn", null, 3);
    assertThat(first).extracting(FunctionUrlConfig::qualifier).containsExactly("$LATEST", "9lives", "Alpha");
    var rest = list("fn", "Alpha", 10);
    assertThat(rest).extracting(FunctionUrlConfig::qualifier).containsExactly("alpha-2", "beta", "live", "z_last");
    assertThatThrownBy(() -> list("fn", null, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aReadTransactionCannotChangeUrls() {
    assertThatThrownBy(() -> store.read(tx -> tx.functionUrls().insertFunctionUrl(urlConfig("fn", "live"))))
        .isInstanceOf(IllegalStateException.class);
    assertThat(byKey("fn", "live")).isEmpty();
  }

  @Test
  void anAcceptedConfigurationSurvivesReopeningTheStore() {
    var config = urlConfig("fn", "live");
    insert(config);
    store.close();
    store = Stores.open(config());
    assertThat(byId(config.urlId())).contains(config);
  }
}
