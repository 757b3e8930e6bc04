package dev.kiln.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.Alias;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionRecord;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.FunctionUrlConfig;
import dev.kiln.core.FunctionUrlConfig.AuthType;
import dev.kiln.core.FunctionUrlConfig.Cors;
import dev.kiln.core.FunctionUrlConfig.InvokeMode;
import dev.kiln.core.KilnException;
import dev.kiln.core.Region;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreConfig;
import dev.kiln.store.Stores;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FunctionUrlsTest {
  private static final String ACCOUNT = "123456789012";
  private static final Instant NOW = Instant.parse("2026-05-06T07:08:09.123456789Z");

  @TempDir Path dir;
  private MetadataStore store;
  private FunctionUrls urls;

  @BeforeEach
  void open() {
    store = Stores.open(new StoreConfig.Sqlite(dir.resolve("kiln.db")));
    urls = new FunctionUrls(store, Region.DEFAULT, Clock.fixed(NOW, ZoneOffset.UTC));
    store.write(tx -> {
      tx.insertFunction(new FunctionRecord(ACCOUNT, "fn", Map.of(), 0, NOW));
      tx.putAlias(new Alias(ACCOUNT, "fn", "live", "$LATEST", "", Map.of(), "rev"));
      return null;
    });
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static FunctionRef ref(String name, String qualifier) {
    return FunctionRef.parse(name, qualifier);
  }

  private static FunctionUrlRequest request(String authType) {
    return new FunctionUrlRequest(authType, null, null);
  }

  private static void fails(ErrorCode code, String message, ThrowingCallable call) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.code()).isEqualTo(code))
        .hasMessageContaining(message);
  }

  @Test
  void createsAUrlWithARandomStableIdAndReadsItBack() {
    var created = urls.create(ACCOUNT, ref("fn", null), request("NONE"));
    assertThat(created.urlId()).matches("[a-z0-9]{32}");
    assertThat(created.qualifier()).isEqualTo(FunctionUrlConfig.UNQUALIFIED);
    assertThat(created.creationTime()).isEqualTo(Instant.parse("2026-05-06T07:08:09.123456Z"));
    assertThat(urls.functionArn(created)).isEqualTo("arn:aws:lambda:us-east-1:123456789012:function:fn");
    assertThat(urls.get(ACCOUNT, ref("fn", null))).isEqualTo(created);
    assertThat(urls.byUrlId(created.urlId())).contains(created);
    assertThat(urls.byUrlId("short")).isEmpty();

    var live = urls.create(ACCOUNT, ref("fn:live", null), request("AWS_IAM"));
    assertThat(urls.functionArn(live)).endsWith(":function:fn:live");
    assertThat(live.urlId()).isNotEqualTo(created.urlId());
  }

  @Test
  void idsAreDrawnAtRandom() {
    var ids = new HashSet<String>();
    for (int i = 0; i < 20; i++) {
      var alias = "a" + i;
      store.write(tx -> {
        tx.putAlias(new Alias(ACCOUNT, "fn", alias, "$LATEST", "", Map.of(), "rev"));
        return null;
      });
      ids.add(urls.create(ACCOUNT, ref("fn", alias), request("NONE")).urlId());
    }
    assertThat(ids).hasSize(20);
  }

  @Test
  void qualifiersMustBeAliasNames() {
    var pattern = "Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)";
    fails(ErrorCode.ValidationException, "Value '1' at 'qualifier' failed to satisfy constraint: " + pattern,
        () -> urls.create(ACCOUNT, ref("fn", "1"), request("NONE")));
    fails(ErrorCode.ValidationException, "Value '$LATEST' at 'qualifier'",
        () -> urls.get(ACCOUNT, ref("fn:$LATEST", null)));
    fails(ErrorCode.ValidationException, "Value '7' at 'qualifier'", () -> urls.delete(ACCOUNT, ref("fn", "7")));
    fails(ErrorCode.ResourceNotFoundException, "Function does not exist",
        () -> urls.create(ACCOUNT, ref("fn", "missing"), request("NONE")));
    fails(ErrorCode.AccessDeniedException, "another account",
        () -> urls.get(ACCOUNT, ref("arn:aws:lambda:us-east-1:210987654321:function:fn", null)));
  }

  @Test
  void membersAreCheckedAgainstLambdasModelAllAtOnce() {
    fails(ErrorCode.ValidationException, "1 validation error detected: Value null at 'authType' failed to satisfy "
        + "constraint: Member must not be null", () -> urls.create(ACCOUNT, ref("fn", null), request(null)));
    var cors = new Cors(null, null, List.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"),
        List.of(""), null, 86_401);
    assertThatThrownBy(() -> urls.create(ACCOUNT, ref("fn", null), new FunctionUrlRequest("OPEN", cors, "NEVER")))
        .isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ValidationException))
        .hasMessageStartingWith("6 validation errors detected: ")
        .hasMessageContaining("Value 'OPEN' at 'authType'")
        .hasMessageContaining("Value 'NEVER' at 'invokeMode'")
        .hasMessageContaining("at 'cors.allowMethods' failed to satisfy constraint: Member must have length less "
            + "than or equal to 6")
        .hasMessageContaining("Value 'OPTIONS' at 'cors.allowMethods'")
        .hasMessageContaining("Value '' at 'cors.allowOrigins' failed to satisfy constraint: Member must have length "
            + "greater than or equal to 1")
        .hasMessageContaining("Value '86401' at 'cors.maxAge' failed to satisfy constraint: Member must have value "
            + "less than or equal to 86400");
    assertThat(urls.list(ACCOUNT, ref("fn", null), null, null).items()).isEmpty();
  }

  @Test
  void aSecondUrlForTheSameTargetConflicts() {
    urls.create(ACCOUNT, ref("fn", null), request("NONE"));
    fails(ErrorCode.ResourceConflictException, "Failed to create function url config for [functionArn = "
        + "arn:aws:lambda:us-east-1:123456789012:function:fn]. Error message:  FunctionUrlConfig exists for this "
        + "Lambda function", () -> urls.create(ACCOUNT, ref("fn", null), request("AWS_IAM")));
  }

  @Test
  void updatesChangeOnlyTheMembersGiven() {
    var cors = new Cors(true, null, null, List.of("*"), null, 5);
    var created = urls.create(ACCOUNT, ref("fn", "live"), new FunctionUrlRequest("NONE", cors, null));
    var mode = urls.update(ACCOUNT, ref("fn", "live"), new FunctionUrlRequest(null, null, "RESPONSE_STREAM"));
    assertThat(mode.authType()).isEqualTo(AuthType.NONE);
    assertThat(mode.cors()).isEqualTo(cors);
    assertThat(mode.invokeMode()).isEqualTo(InvokeMode.RESPONSE_STREAM);
    assertThat(mode.urlId()).isEqualTo(created.urlId());
    var auth = urls.update(ACCOUNT, ref("fn", "live"), request("AWS_IAM"));
    assertThat(auth.invokeMode()).isEqualTo(InvokeMode.RESPONSE_STREAM);
    assertThat(auth.authType()).isEqualTo(AuthType.AWS_IAM);
    fails(ErrorCode.ResourceNotFoundException, "The resource you requested does not exist.",
        () -> urls.update(ACCOUNT, ref("fn", null), request("NONE")));
    fails(ErrorCode.ResourceNotFoundException, "Function does not exist",
        () -> urls.update(ACCOUNT, ref("other", null), request("NONE")));
  }

  @Test
  void deletesAndListsInPagesOfAtMostFifty() {
    urls.create(ACCOUNT, ref("fn", null), request("NONE"));
    urls.create(ACCOUNT, ref("fn", "live"), request("NONE"));
    var first = urls.list(ACCOUNT, ref("fn", null), null, 1);
    assertThat(first.items()).extracting(FunctionUrlConfig::qualifier).containsExactly("$LATEST");
    assertThat(first.nextMarker()).isNotNull();
    var second = urls.list(ACCOUNT, ref("fn", null), first.nextMarker(), 100);
    assertThat(second.items()).extracting(FunctionUrlConfig::qualifier).containsExactly("live");
    assertThat(second.nextMarker()).isNull();
    fails(ErrorCode.ValidationException, "Value '0' at 'maxItems'", () -> urls.list(ACCOUNT, ref("fn", null), null,
        0));
    fails(ErrorCode.ResourceNotFoundException, "Function does not exist",
        () -> urls.list(ACCOUNT, ref("other", null), null, null));

    urls.delete(ACCOUNT, ref("fn", "live"));
    fails(ErrorCode.ResourceNotFoundException, "The resource you requested does not exist.",
        () -> urls.delete(ACCOUNT, ref("fn", "live")));
    fails(ErrorCode.ResourceNotFoundException, "The resource you requested does not exist.",
        () -> urls.get(ACCOUNT, ref("other", null)));
    assertThat(urls.list(ACCOUNT, ref("fn", null), null, null).items()).hasSize(1);
  }
}
