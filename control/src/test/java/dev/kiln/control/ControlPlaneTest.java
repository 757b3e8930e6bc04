package dev.kiln.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.KilnException;
import dev.kiln.core.LastUpdateStatus;
import dev.kiln.core.Region;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreConfig;
import dev.kiln.store.Stores;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlPlaneTest {
  private static final String ACCOUNT = "123456789012";
  private static final String ROLE = "arn:aws:iam::123456789012:role/test";

  @TempDir Path dir;
  private MetadataStore store;
  private ControlPlane control;
  private final List<FunctionVersion> activated = new ArrayList<>();

  @BeforeEach
  void open() {
    store = Stores.open(new StoreConfig.Sqlite(dir.resolve("kiln.db")));
    control = new ControlPlane(store, new CodeStore(dir.resolve("code")), Region.DEFAULT, Clock.systemUTC(),
        activated::add);
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void newFunctionIsPendingUntilActivatedThenActive() {
    var created = create("f", "one");
    assertThat(created.state()).isEqualTo(FunctionState.Pending);
    assertThat(activated).hasSize(1);
    control.markReady(ACCOUNT, "f");
    var config = control.getConfiguration(ACCOUNT, ref("f"));
    assertThat(config.state()).isEqualTo(FunctionState.Active);
    assertThat(config.revisionId()).isNotEqualTo(created.revisionId());
    assertThat(config.memorySize()).isEqualTo(128);
    assertThat(config.timeout()).isEqualTo(3);
    assertThat(config.ephemeralStorageSize()).isEqualTo(512);
    assertThat(control.versionsAwaitingActivation()).isEmpty();
  }

  @Test
  void createTwiceIsAConflict() {
    create("f", "one");
    assertError(() -> create("f", "two"), ErrorCode.ResourceConflictException);
  }

  @Test
  void rejectsBadConfigurationWithLambdasErrors() {
    assertError(() -> create("f", "x", new ConfigurationChange("nodejs22.x", "index.handler", ROLE, null, 64, null,
        null, null, null)), ErrorCode.InvalidParameterValueException);
    assertError(() -> create("f", "x", new ConfigurationChange("nodejs22.x", "index.handler", ROLE, null, null, 901,
        null, null, null)), ErrorCode.InvalidParameterValueException);
    assertError(() -> create("f", "x", new ConfigurationChange("cobol1", "index.handler", ROLE, null, null, null,
        null, null, null)), ErrorCode.InvalidParameterValueException);
    assertError(() -> create("f", "x", new ConfigurationChange("nodejs22.x", "index.handler", ROLE, null, null, null,
        null, Map.of("AWS_REGION", "x"), null)), ErrorCode.InvalidParameterValueException);
    assertError(() -> create("a".repeat(65), "x"), ErrorCode.InvalidParameterValueException);
    assertError(() -> control.createFunction(ACCOUNT, new CreateFunctionRequest("f", config(),
        "not a zip".getBytes(StandardCharsets.UTF_8), null, false)), ErrorCode.InvalidParameterValueException);
    assertThat((long) store.<Long>read(tx -> tx.functionCount(ACCOUNT))).isZero();
  }

  @Test
  void publishReturnsTheSameVersionWhenNothingChanged() {
    create("f", "one");
    control.markReady(ACCOUNT, "f");
    var first = control.publishVersion(ACCOUNT, ref("f"), null, null, null);
    var again = control.publishVersion(ACCOUNT, ref("f"), null, null, null);
    assertThat(first.version()).isEqualTo("1");
    assertThat(again.version()).isEqualTo("1");
    update("f", "two");
    control.markReady(ACCOUNT, "f");
    assertThat(control.publishVersion(ACCOUNT, ref("f"), null, null, null).version()).isEqualTo("2");
  }

  @Test
  void publishChecksCodeShaAndRevision() {
    var created = create("f", "one");
    control.markReady(ACCOUNT, "f");
    assertError(() -> control.publishVersion(ACCOUNT, ref("f"), "AAAA", null, null),
        ErrorCode.InvalidParameterValueException);
    assertError(() -> control.publishVersion(ACCOUNT, ref("f"), null, null, created.revisionId()),
        ErrorCode.PreconditionFailedException);
    var latest = control.getConfiguration(ACCOUNT, ref("f"));
    var published = control.publishVersion(ACCOUNT, ref("f"), latest.code().sha256Base64(), "v1", latest.revisionId());
    assertThat(published.description()).isEqualTo("v1");
  }

  @Test
  void updatesWaitForTheLastOneToFinish() {
    create("f", "one");
    assertError(() -> update("f", "two"), ErrorCode.ResourceConflictException);
    control.markReady(ACCOUNT, "f");
    var updated = update("f", "two");
    assertThat(updated.lastUpdateStatus()).isEqualTo(LastUpdateStatus.InProgress);
    assertThat(control.versionsAwaitingActivation()).hasSize(1);
  }

  @Test
  void versionsAreNumberedInOrderAndNeverReused() {
    create("f", "v0");
    for (int i = 1; i <= 11; i++) {
      control.markReady(ACCOUNT, "f");
      control.updateFunctionCode(ACCOUNT, ref("f"), new UpdateCodeRequest(zip("v" + i), null, true, null));
    }
    control.markReady(ACCOUNT, "f");
    control.deleteFunction(ACCOUNT, FunctionRef.parse("f", "11"));
    control.updateFunctionCode(ACCOUNT, ref("f"), new UpdateCodeRequest(zip("v12"), null, true, null));
    var versions = control.listVersions(ACCOUNT, ref("f"), null, 50).items().stream()
        .map(FunctionVersion::version).toList();
    assertThat(versions).containsExactly("$LATEST", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12");
    var firstPage = control.listVersions(ACCOUNT, ref("f"), null, 5);
    assertThat(firstPage.items()).hasSize(5);
    var secondPage = control.listVersions(ACCOUNT, ref("f"), firstPage.nextMarker(), 5);
    assertThat(secondPage.items().getFirst().version()).isEqualTo("5");
  }

  @Test
  void aliasesRouteToExistingVersionsAndProtectThem() {
    create("f", "one");
    control.markReady(ACCOUNT, "f");
    control.publishVersion(ACCOUNT, ref("f"), null, null, null);
    update("f", "two");
    control.markReady(ACCOUNT, "f");
    control.publishVersion(ACCOUNT, ref("f"), null, null, null);

    var alias = control.createAlias(ACCOUNT, ref("f"), "live", new AliasChange("1", "prod", Map.of("2", 0.25), null));
    assertThat(alias.additionalWeights()).containsEntry("2", 0.25);
    assertError(() -> control.createAlias(ACCOUNT, ref("f"), "live", new AliasChange("1", null, null, null)),
        ErrorCode.ResourceConflictException);
    assertError(() -> control.createAlias(ACCOUNT, ref("f"), "other", new AliasChange("9", null, null, null)),
        ErrorCode.ResourceNotFoundException);
    assertError(() -> control.createAlias(ACCOUNT, ref("f"), "w", new AliasChange("1", null, Map.of("1", 0.5), null)),
        ErrorCode.InvalidParameterValueException);
    assertError(() -> control.createAlias(ACCOUNT, ref("f"), "w", new AliasChange("1", null, Map.of("2", 1.5), null)),
        ErrorCode.InvalidParameterValueException);
    assertError(() -> control.createAlias(ACCOUNT, ref("f"), "123", new AliasChange("1", null, null, null)),
        ErrorCode.InvalidParameterValueException);
    assertError(() -> control.deleteFunction(ACCOUNT, FunctionRef.parse("f", "2")),
        ErrorCode.ResourceConflictException);

    assertError(() -> control.updateAlias(ACCOUNT, ref("f"), "live", new AliasChange("2", null, Map.of(), "stale")),
        ErrorCode.PreconditionFailedException);
    var moved = control.updateAlias(ACCOUNT, ref("f"), "live", new AliasChange("2", null, Map.of(), null));
    assertThat(moved.functionVersion()).isEqualTo("2");
    assertThat(moved.additionalWeights()).isEmpty();
    assertThat(moved.description()).isEqualTo("prod");
    assertThat(control.getConfiguration(ACCOUNT, FunctionRef.parse("f:live", null)).version()).isEqualTo("2");

    control.deleteFunction(ACCOUNT, FunctionRef.parse("f", "1"));
    assertError(() -> control.getConfiguration(ACCOUNT, FunctionRef.parse("f", "1")),
        ErrorCode.ResourceNotFoundException);
    assertError(() -> control.deleteFunction(ACCOUNT, FunctionRef.parse("f", "$LATEST")),
        ErrorCode.InvalidParameterValueException);
    control.deleteAlias(ACCOUNT, ref("f"), "live");
    assertThat(control.listAliases(ACCOUNT, ref("f"), null, null, null).items()).isEmpty();
  }

  @Test
  void invokesSeeEveryChangeAtOnceThoughResolutionsAreCached() {
    create("f", "one");
    control.markReady(ACCOUNT, "f");
    control.publishVersion(ACCOUNT, ref("f"), null, null, null);
    update("f", "two");
    control.markReady(ACCOUNT, "f");
    control.publishVersion(ACCOUNT, ref("f"), null, null, null);
    var live = FunctionRef.parse("f:live", null);
    control.createAlias(ACCOUNT, ref("f"), "live", new AliasChange("1", null, Map.of("2", 0.25), null));

    // Weights apply per invoke on a cached alias: below 0.25 the additional version, above it the primary.
    assertThat(control.resolveForInvoke(ACCOUNT, live, 0.1).version()).isEqualTo("2");
    assertThat(control.resolveForInvoke(ACCOUNT, live, 0.9).version()).isEqualTo("1");
    control.updateAlias(ACCOUNT, ref("f"), "live", new AliasChange("2", null, Map.of(), null));
    assertThat(control.resolveForInvoke(ACCOUNT, live, 0.9).version()).isEqualTo("2");

    var before = control.resolveForInvoke(ACCOUNT, ref("f"), 0.5);
    var updated = update("f", "three");
    assertThat(control.resolveForInvoke(ACCOUNT, ref("f"), 0.5).revisionId())
        .isEqualTo(updated.revisionId()).isNotEqualTo(before.revisionId());

    control.deleteFunction(ACCOUNT, ref("f"));
    assertError(() -> control.resolveForInvoke(ACCOUNT, ref("f"), 0.5), ErrorCode.ResourceNotFoundException);
    assertError(() -> control.resolveForInvoke(ACCOUNT, live, 0.5), ErrorCode.ResourceNotFoundException);
  }

  @Test
  void listFunctionsPagesByName() {
    for (var name : List.of("c", "a", "b", "e", "d")) {
      create(name, name);
    }
    var first = control.listFunctions(ACCOUNT, null, 2, false);
    assertThat(first.items()).extracting(FunctionVersion::functionName).containsExactly("a", "b");
    var second = control.listFunctions(ACCOUNT, first.nextMarker(), 2, false);
    assertThat(second.items()).extracting(FunctionVersion::functionName).containsExactly("c", "d");
    var last = control.listFunctions(ACCOUNT, second.nextMarker(), 2, false);
    assertThat(last.items()).extracting(FunctionVersion::functionName).containsExactly("e");
    assertThat(last.nextMarker()).isNull();
    assertError(() -> control.listFunctions(ACCOUNT, null, 0, false), ErrorCode.InvalidParameterValueException);
  }

  @Test
  void tagsMergeAndRemoveAndRequireAnUnqualifiedOwnArn() {
    create("f", "one");
    var arn = control.arn(ACCOUNT, "f", null);
    control.tagResource(ACCOUNT, arn, Map.of("team", "a", "env", "dev"));
    control.tagResource(ACCOUNT, arn, Map.of("env", "prod"));
    control.untagResource(ACCOUNT, arn, List.of("team"));
    assertThat(control.listTags(ACCOUNT, arn)).containsExactly(Map.entry("env", "prod"));
    assertError(() -> control.listTags(ACCOUNT, arn + ":1"), ErrorCode.InvalidParameterValueException);
    assertError(() -> control.listTags("999999999999", arn), ErrorCode.AccessDeniedException);
    assertError(() -> control.listTags(ACCOUNT, control.arn(ACCOUNT, "missing", null)),
        ErrorCode.ResourceNotFoundException);
  }

  @Test
  void accountSettingsCountFunctionsAndCode() {
    var one = create("f", "one");
    create("g", "two");
    control.markReady(ACCOUNT, "f");
    control.publishVersion(ACCOUNT, ref("f"), null, null, null);
    var settings = control.accountSettings(ACCOUNT, 1000);
    assertThat(settings.functionCount()).isEqualTo(2);
    assertThat(settings.totalCodeSizeUsed()).isGreaterThanOrEqualTo(3 * one.code().size() - 10);
    assertThat(control.accountSettings("999999999999", 1000).functionCount()).isZero();
  }

  @Test
  void acceptsPartialAndFullArnsAndRefusesOtherAccounts() {
    create("f", "one");
    assertThat(control.getConfiguration(ACCOUNT, FunctionRef.parse(ACCOUNT + ":function:f", null)).functionName())
        .isEqualTo("f");
    assertThat(control.getConfiguration(ACCOUNT,
        FunctionRef.parse("arn:aws:lambda:us-east-1:" + ACCOUNT + ":function:f:$LATEST", null)).version())
        .isEqualTo("$LATEST");
    assertError(() -> control.getConfiguration(ACCOUNT, FunctionRef.parse("111111111111:function:f", null)),
        ErrorCode.AccessDeniedException);
  }

  private FunctionVersion create(String name, String content) {
    return create(name, content, config());
  }

  private FunctionVersion create(String name, String content, ConfigurationChange config) {
    return control.createFunction(ACCOUNT, new CreateFunctionRequest(name, config, zip(content), null, false));
  }

  private FunctionVersion update(String name, String content) {
    return control.updateFunctionCode(ACCOUNT, ref(name), new UpdateCodeRequest(zip(content), null, false, null));
  }

  private static ConfigurationChange config() {
    return new ConfigurationChange("nodejs22.x", "index.handler", ROLE, null, null, null, null, null, null);
  }

  private static FunctionRef ref(String name) {
    return FunctionRef.parse(name, null);
  }

  private static void assertError(ThrowingCallable call, ErrorCode code) {
    assertThatThrownBy(call).isInstanceOfSatisfying(KilnException.class, e -> assertThat(e.code()).isEqualTo(code));
  }

  static byte[] zip(String content) {
    try {
      var bytes = new ByteArrayOutputStream();
      try (var zip = new ZipOutputStream(bytes)) {
        zip.putNextEntry(new ZipEntry("index.js"));
        zip.write(("exports.handler = async () => '" + content + "';\n").getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
