package dev.kiln.e2e;

import static dev.kiln.e2e.support.Sdk.expectError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.AwsCli;
import dev.kiln.e2e.support.KilnTestBase;
import dev.kiln.e2e.support.SignedHttp;
import dev.kiln.e2e.support.Zips;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.Architecture;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetFunctionConfigurationResponse;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.ListFunctionsResponse;
import software.amazon.awssdk.services.lambda.model.PackageType;
import software.amazon.awssdk.services.lambda.model.State;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionCodeResponse;
import software.amazon.awssdk.services.lambda.model.UpdateFunctionConfigurationResponse;
import tools.jackson.databind.JsonNode;

/**
 * Function CRUD: CreateFunction, GetFunction (with the code download), GetFunctionConfiguration,
 * ListFunctions with pagination, UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction;
 * the three forms of function name; RevisionId preconditions.
 */
abstract class FunctionsContract extends KilnTestBase {
  private static final String UNICODE_TEXT = "héllo wörld ✓ 日本語 😀 'quotes' \"double\"";
  private static final String TRICKY_VALUE = "a=b;c\\d\n'); DROP TABLE functions; --";

  @Test
  void namesAreCaseSensitive() {
    String lower = uniqueName("case");
    String upper = lower.toUpperCase(Locale.ROOT);
    byte[] zipLower = Zips.nodeFunction();
    byte[] zipUpper = Zips.nodeFunction();
    createFunction(lower, zipLower);
    createFunction(upper, zipUpper);
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(lower)).codeSha256())
        .isEqualTo(Zips.sha256Base64(zipLower));
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(upper)).codeSha256())
        .isEqualTo(Zips.sha256Base64(zipUpper));
    lambda.deleteFunction(b -> b.functionName(upper));
    assertThat(lambda.getFunction(b -> b.functionName(lower)).configuration().functionName())
        .isEqualTo(lower);
  }

  @Test
  void cliCreateWaitGetDownloadUpdateDelete() {
    String name = uniqueName("cli-crud");
    byte[] zip = Zips.nodeFunction();
    JsonNode created =
        cli.lambda(
                "create-function",
                "--function-name", name,
                "--runtime", "nodejs20.x",
                "--role", ROLE,
                "--handler", "index.handler",
                "--zip-file", zipFileArg(zip),
                "--memory-size", "256",
                "--timeout", "10",
                "--description", "made by the CLI",
                "--environment", "Variables={GREETING=hi,MODE=test}")
            .json();
    assertThat(created.path("FunctionName").asString()).isEqualTo(name);
    assertThat(created.path("FunctionArn").asString()).isEqualTo(arn(name));
    assertThat(created.path("Runtime").asString()).isEqualTo("nodejs20.x");
    assertThat(created.path("Role").asString()).isEqualTo(ROLE);
    assertThat(created.path("Handler").asString()).isEqualTo("index.handler");
    assertThat(created.path("CodeSha256").asString()).isEqualTo(Zips.sha256Base64(zip));
    assertThat(created.path("CodeSize").asLong()).isEqualTo(zip.length);
    assertThat(created.path("Version").asString()).isEqualTo("$LATEST");
    assertThat(created.path("State").asString()).isEqualTo("Pending");
    assertThat(created.path("MemorySize").asInt()).isEqualTo(256);
    assertThat(created.path("Timeout").asInt()).isEqualTo(10);
    assertThat(created.path("Description").asString()).isEqualTo("made by the CLI");
    assertThat(created.path("Environment").path("Variables").path("GREETING").asString())
        .isEqualTo("hi");
    assertThat(created.path("Environment").path("Variables").path("MODE").asString())
        .isEqualTo("test");
    assertThat(created.path("LastModified").asString()).matches(LAST_MODIFIED_PATTERN);
    assertThat(created.path("RevisionId").asString()).isNotBlank();
    assertThat(created.path("PackageType").asString()).isEqualTo("Zip");
    assertThat(created.path("Architectures").toString()).isEqualTo("[\"x86_64\"]");
    assertThat(created.path("EphemeralStorage").path("Size").asInt()).isEqualTo(512);

    cli.lambda("wait", "function-active-v2", "--function-name", name).assertOk();

    JsonNode got = cli.lambda("get-function", "--function-name", name).json();
    JsonNode config = got.path("Configuration");
    assertThat(config.path("State").asString()).isEqualTo("Active");
    assertThat(config.path("LastUpdateStatus").asString()).isEqualTo("Successful");
    assertThat(config.path("CodeSha256").asString()).isEqualTo(Zips.sha256Base64(zip));
    assertThat(got.path("Code").path("RepositoryType").asString()).isEqualTo("S3");
    assertThat(download(got.path("Code").path("Location").asString())).isEqualTo(zip);

    JsonNode configuration =
        cli.lambda("get-function-configuration", "--function-name", name).json();
    assertThat(configuration.path("FunctionArn").asString()).isEqualTo(arn(name));
    assertThat(configuration.path("MemorySize").asInt()).isEqualTo(256);
    String revision = configuration.path("RevisionId").asString();

    JsonNode updated =
        cli.lambda(
                "update-function-configuration",
                "--function-name", name,
                "--memory-size", "512",
                "--revision-id", revision)
            .json();
    assertThat(updated.path("MemorySize").asInt()).isEqualTo(512);
    // Fields not in the update keep their values; the code is untouched.
    assertThat(updated.path("Timeout").asInt()).isEqualTo(10);
    assertThat(updated.path("Description").asString()).isEqualTo("made by the CLI");
    assertThat(updated.path("Environment").path("Variables").path("GREETING").asString())
        .isEqualTo("hi");
    assertThat(updated.path("CodeSha256").asString()).isEqualTo(Zips.sha256Base64(zip));
    assertThat(updated.path("RevisionId").asString()).isNotEqualTo(revision);
    assertThat(updated.path("LastUpdateStatus").asString()).isIn("InProgress", "Successful");
    awaitUpdated(name);

    byte[] newZip = Zips.nodeFunction("bye");
    cli.lambda(
            "update-function-code",
            "--function-name", name,
            "--zip-file", zipFileArg(newZip),
            "--revision-id", revision)
        .assertError("PreconditionFailedException");

    JsonNode codeUpdated =
        cli.lambda("update-function-code", "--function-name", name, "--zip-file", zipFileArg(newZip))
            .json();
    assertThat(codeUpdated.path("CodeSha256").asString()).isEqualTo(Zips.sha256Base64(newZip));
    assertThat(codeUpdated.path("CodeSize").asLong()).isEqualTo(newZip.length);
    assertThat(codeUpdated.path("Version").asString()).isEqualTo("$LATEST");
    // A code update leaves the configuration alone.
    assertThat(codeUpdated.path("MemorySize").asInt()).isEqualTo(512);
    assertThat(codeUpdated.path("Environment").path("Variables").path("MODE").asString())
        .isEqualTo("test");
    assertThat(codeUpdated.path("RevisionId").asString())
        .isNotEqualTo(updated.path("RevisionId").asString());
    awaitUpdated(name);
    GetFunctionResponse afterCode = lambda.getFunction(b -> b.functionName(name));
    assertThat(download(afterCode.code().location())).isEqualTo(newZip);

    cli.lambda("delete-function", "--function-name", name).assertOk();
    cli.lambda("get-function", "--function-name", name).assertError("ResourceNotFoundException");
  }

  @Test
  void sdkCreateWithEveryFieldAndPublish() {
    String name = uniqueName("sdk-full");
    byte[] zip = Zips.pythonFunction();
    CreateFunctionResponse created =
        lambda.createFunction(
            b ->
                b.functionName(name)
                    .runtime("python3.12")
                    .role(ROLE)
                    .handler("lambda_function.lambda_handler")
                    .code(c -> c.zipFile(SdkBytes.fromByteArray(zip)))
                    .memorySize(10240)
                    .timeout(900)
                    .description(UNICODE_TEXT)
                    .environment(
                        e -> e.variables(Map.of("ALPHA", "1", "BETA_2", "two", "TRICKY", TRICKY_VALUE)))
                    .ephemeralStorage(s -> s.size(2048))
                    .architectures(Architecture.ARM64)
                    .tags(Map.of("team", "kiln", "env", "e2e"))
                    .publish(true));
    assertThat(created.version()).isEqualTo("1");
    assertThat(created.functionArn()).isEqualTo(arn(name) + ":1");
    assertThat(created.runtimeAsString()).isEqualTo("python3.12");
    assertThat(created.handler()).isEqualTo("lambda_function.lambda_handler");
    assertThat(created.memorySize()).isEqualTo(10240);
    assertThat(created.timeout()).isEqualTo(900);
    assertThat(created.description()).isEqualTo(UNICODE_TEXT);
    assertThat(created.environment().variables())
        .isEqualTo(Map.of("ALPHA", "1", "BETA_2", "two", "TRICKY", TRICKY_VALUE));
    assertThat(created.ephemeralStorage().size()).isEqualTo(2048);
    assertThat(created.architectures()).containsExactly(Architecture.ARM64);
    assertThat(created.codeSha256()).isEqualTo(Zips.sha256Base64(zip));
    awaitActive(name);

    GetFunctionResponse latest = lambda.getFunction(b -> b.functionName(name));
    FunctionConfiguration config = latest.configuration();
    assertThat(config.version()).isEqualTo("$LATEST");
    assertThat(config.functionArn()).isEqualTo(arn(name));
    assertThat(config.role()).isEqualTo(ROLE);
    assertThat(config.memorySize()).isEqualTo(10240);
    assertThat(config.ephemeralStorage().size()).isEqualTo(2048);
    assertThat(config.architectures()).containsExactly(Architecture.ARM64);
    assertThat(config.environment().variables()).containsEntry("BETA_2", "two");
    // Text round-trips through the store exactly.
    assertThat(config.description()).isEqualTo(UNICODE_TEXT);
    assertThat(config.environment().variables()).containsEntry("TRICKY", TRICKY_VALUE);
    assertThat(latest.tags()).isEqualTo(Map.of("team", "kiln", "env", "e2e"));
    assertThat(download(latest.code().location())).isEqualTo(zip);

    GetFunctionResponse v1 = lambda.getFunction(b -> b.functionName(name).qualifier("1"));
    assertThat(v1.configuration().version()).isEqualTo("1");
    assertThat(v1.configuration().functionArn()).isEqualTo(arn(name) + ":1");
    assertThat(v1.configuration().codeSha256()).isEqualTo(Zips.sha256Base64(zip));
    assertThat(download(v1.code().location())).isEqualTo(zip);
    assertThat(
            lambda.listVersionsByFunction(b -> b.functionName(name)).versions().stream()
                .map(FunctionConfiguration::version))
        .containsExactly("$LATEST", "1");
  }

  @Test
  void sdkDefaultsAndStateTransitions() {
    String name = uniqueName("sdk-defaults");
    byte[] zip = Zips.nodeFunction();
    CreateFunctionResponse created = createFunction(name, zip);
    assertThat(created.functionName()).isEqualTo(name);
    assertThat(created.functionArn()).isEqualTo(arn(name));
    assertThat(created.version()).isEqualTo("$LATEST");
    assertThat(created.state()).isEqualTo(State.PENDING);
    assertThat(created.memorySize()).isEqualTo(128);
    assertThat(created.timeout()).isEqualTo(3);
    assertThat(created.ephemeralStorage().size()).isEqualTo(512);
    assertThat(created.architectures()).containsExactly(Architecture.X86_64);
    assertThat(created.packageType()).isEqualTo(PackageType.ZIP);
    assertThat(created.codeSha256()).isEqualTo(Zips.sha256Base64(zip));
    assertThat(created.codeSize()).isEqualTo(zip.length);
    assertThat(created.lastModified()).matches(LAST_MODIFIED_PATTERN);
    assertThat(created.revisionId()).isNotBlank();

    GetFunctionConfigurationResponse active = awaitActive(name);
    assertThat(active.lastUpdateStatus()).isEqualTo(LastUpdateStatus.SUCCESSFUL);
    assertThat(active.codeSha256()).isEqualTo(created.codeSha256());
    assertThat(active.handler()).isEqualTo("index.handler");
    assertThat(active.runtimeAsString()).isEqualTo("nodejs20.x");
    assertThat(active.role()).isEqualTo(ROLE);
  }

  @Test
  void functionNameFormsAndQualifiers() {
    String name = uniqueName("forms");
    byte[] zip = Zips.nodeFunction();
    createFunction(name, zip, b -> b.publish(true));
    awaitActive(name);

    for (String form : List.of(name, partialArn(name), arn(name))) {
      GetFunctionResponse got = lambda.getFunction(b -> b.functionName(form));
      assertThat(got.configuration().functionName()).as(form).isEqualTo(name);
      assertThat(got.configuration().version()).as(form).isEqualTo("$LATEST");
      GetFunctionConfigurationResponse c =
          lambda.getFunctionConfiguration(b -> b.functionName(form));
      assertThat(c.functionArn()).as(form).isEqualTo(arn(name));
      // Version through the Qualifier parameter.
      GetFunctionResponse v1 = lambda.getFunction(b -> b.functionName(form).qualifier("1"));
      assertThat(v1.configuration().version()).as(form + " Qualifier=1").isEqualTo("1");
      // Version inside the name.
      GetFunctionConfigurationResponse v1InName =
          lambda.getFunctionConfiguration(b -> b.functionName(form + ":1"));
      assertThat(v1InName.version()).as(form + ":1").isEqualTo("1");
      assertThat(v1InName.functionArn()).as(form + ":1").isEqualTo(arn(name) + ":1");
    }
    GetFunctionConfigurationResponse latest =
        lambda.getFunctionConfiguration(b -> b.functionName(name).qualifier("$LATEST"));
    assertThat(latest.version()).isEqualTo("$LATEST");

    JsonNode viaCli =
        cli.lambda("get-function-configuration", "--function-name", arn(name), "--qualifier", "1")
            .json();
    assertThat(viaCli.path("Version").asString()).isEqualTo("1");
    JsonNode viaCliPartial =
        cli.lambda("get-function", "--function-name", partialArn(name) + ":1").json();
    assertThat(viaCliPartial.path("Configuration").path("Version").asString()).isEqualTo("1");

    UpdateFunctionConfigurationResponse updated =
        lambda.updateFunctionConfiguration(b -> b.functionName(arn(name)).description("via ARN"));
    assertThat(updated.description()).isEqualTo("via ARN");
    awaitUpdated(name);
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(partialArn(name))).description())
        .isEqualTo("via ARN");

    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.getFunction(b -> b.functionName(arn(name) + ":7")));
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.getFunction(b -> b.functionName(arn(uniqueName("nobody")))));

    lambda.deleteFunction(b -> b.functionName(partialArn(name)));
    expectError(
        404, "ResourceNotFoundException", () -> lambda.getFunction(b -> b.functionName(name)));
  }

  @Test
  void revisionIdPreconditionsAndChanges() {
    String name = uniqueName("revisions");
    CreateFunctionResponse created = createFunction(name, Zips.nodeFunction());
    awaitActive(name);
    String rev0 = lambda.getFunctionConfiguration(b -> b.functionName(name)).revisionId();
    assertThat(rev0).isNotBlank();

    expectError(
        412,
        "PreconditionFailedException",
        () ->
            lambda.updateFunctionCode(
                b ->
                    b.functionName(name)
                        .zipFile(SdkBytes.fromByteArray(Zips.nodeFunction()))
                        .revisionId("00000000-0000-0000-0000-000000000000")));
    expectError(
        412,
        "PreconditionFailedException",
        () ->
            lambda.updateFunctionConfiguration(
                b -> b.functionName(name).timeout(30).revisionId("not-the-revision")));
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(name)).timeout()).isEqualTo(3);

    UpdateFunctionConfigurationResponse conf =
        lambda.updateFunctionConfiguration(b -> b.functionName(name).timeout(30).revisionId(rev0));
    assertThat(conf.timeout()).isEqualTo(30);
    assertThat(conf.revisionId()).isNotEqualTo(rev0);
    awaitUpdated(name);
    String rev1 = lambda.getFunctionConfiguration(b -> b.functionName(name)).revisionId();
    // The old revision no longer matches.
    expectError(
        412,
        "PreconditionFailedException",
        () -> lambda.updateFunctionConfiguration(b -> b.functionName(name).revisionId(rev0).timeout(5)));

    byte[] zip = Zips.nodeFunction();
    UpdateFunctionCodeResponse code =
        lambda.updateFunctionCode(
            b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(zip)).revisionId(rev1));
    assertThat(code.codeSha256()).isEqualTo(Zips.sha256Base64(zip));
    assertThat(code.revisionId()).isNotIn(rev0, rev1);
    assertThat(code.lastModified()).matches(LAST_MODIFIED_PATTERN);
    // Same fixed-width format in UTC: the later update sorts later.
    assertThat(code.lastModified()).isGreaterThanOrEqualTo(created.lastModified());
    assertThat(code.lastUpdateStatus()).isIn(LastUpdateStatus.IN_PROGRESS, LastUpdateStatus.SUCCESSFUL);
    awaitUpdated(name);
    assertThat(created.revisionId()).isNotEqualTo(code.revisionId());
  }

  @Test
  void updateFunctionCodeWithPublish() {
    String name = uniqueName("code-publish");
    createActiveFunction(name, Zips.nodeFunction());
    byte[] v1zip = Zips.nodeFunction("one");
    UpdateFunctionCodeResponse v1 =
        lambda.updateFunctionCode(
            b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(v1zip)).publish(true));
    assertThat(v1.version()).isEqualTo("1");
    assertThat(v1.functionArn()).isEqualTo(arn(name) + ":1");
    assertThat(v1.codeSha256()).isEqualTo(Zips.sha256Base64(v1zip));
    awaitUpdated(name);
    byte[] v2zip = Zips.nodeFunction("two");
    UpdateFunctionCodeResponse v2 =
        lambda.updateFunctionCode(
            b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(v2zip)).publish(true));
    assertThat(v2.version()).isEqualTo("2");
    awaitUpdated(name);
    assertThat(download(lambda.getFunction(b -> b.functionName(name).qualifier("1")).code().location()))
        .isEqualTo(v1zip);
    assertThat(download(lambda.getFunction(b -> b.functionName(name + ":2")).code().location()))
        .isEqualTo(v2zip);
    assertThat(download(lambda.getFunction(b -> b.functionName(name)).code().location()))
        .isEqualTo(v2zip);
  }

  @Test
  void deleteVersionsAndWholeFunction() {
    String name = uniqueName("delete");
    createFunction(name, Zips.nodeFunction(), b -> b.publish(true));
    awaitActive(name);
    lambda.updateFunctionCode(
        b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(Zips.nodeFunction())).publish(true));
    awaitUpdated(name);
    lambda.createAlias(b -> b.functionName(name).name("live").functionVersion("1"));

    expectError(
        400,
        "InvalidParameterValueException",
        () -> lambda.deleteFunction(b -> b.functionName(name).qualifier("$LATEST")));
    cli.lambda("delete-function", "--function-name", name, "--qualifier", "$LATEST")
        .assertError("InvalidParameterValueException");
    expectError(
        409,
        "ResourceConflictException",
        () -> lambda.deleteFunction(b -> b.functionName(name).qualifier("1")));

    lambda.deleteFunction(b -> b.functionName(name).qualifier("2"));
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.getFunction(b -> b.functionName(name).qualifier("2")));
    assertThat(
            lambda.listVersionsByFunction(b -> b.functionName(name)).versions().stream()
                .map(FunctionConfiguration::version))
        .containsExactly("$LATEST", "1");
    // A version deleted by qualifier in the name.
    lambda.deleteAlias(b -> b.functionName(name).name("live"));
    lambda.deleteFunction(b -> b.functionName(name + ":1"));
    assertThat(
            lambda.listVersionsByFunction(b -> b.functionName(name)).versions().stream()
                .map(FunctionConfiguration::version))
        .containsExactly("$LATEST");

    lambda.deleteFunction(b -> b.functionName(name));
    expectError(404, "ResourceNotFoundException", () -> lambda.getFunction(b -> b.functionName(name)));
    expectError(
        404, "ResourceNotFoundException", () -> lambda.deleteFunction(b -> b.functionName(name)));
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.listVersionsByFunction(b -> b.functionName(name)));
  }

  @Test
  void deleteFunctionRemovesVersionsAndAliases() {
    String name = uniqueName("delete-all");
    createFunction(name, Zips.nodeFunction(), b -> b.publish(true));
    awaitActive(name);
    lambda.createAlias(b -> b.functionName(name).name("prod").functionVersion("1"));
    lambda.deleteFunction(b -> b.functionName(name));
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.getFunction(b -> b.functionName(name).qualifier("1")));
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.getAlias(b -> b.functionName(name).name("prod")));
    // The name is free again.
    byte[] zip = Zips.nodeFunction();
    assertThat(createFunction(name, zip).codeSha256()).isEqualTo(Zips.sha256Base64(zip));
    awaitActive(name);
    assertThat(
            lambda.listVersionsByFunction(b -> b.functionName(name)).versions().stream()
                .map(FunctionConfiguration::version))
        .containsExactly("$LATEST");
  }

  @Test
  void listFunctionsPaginationSdk() {
    String prefix = uniqueName("page");
    Set<String> mine = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      String name = prefix + "-" + i;
      createFunction(name, Zips.nodeFunction());
      mine.add(name);
    }
    // Marker / MaxItems by hand.
    List<String> seen = new ArrayList<>();
    String marker = null;
    int pages = 0;
    do {
      String m = marker;
      ListFunctionsResponse page = lambda.listFunctions(b -> b.maxItems(2).marker(m));
      assertThat(page.functions()).hasSizeLessThanOrEqualTo(2);
      page.functions().forEach(f -> {
        assertThat(f.functionArn()).isEqualTo(arn(f.functionName()));
        assertThat(f.version()).isEqualTo("$LATEST");
        seen.add(f.functionName());
      });
      marker = page.nextMarker();
      pages++;
      assertThat(pages).as("pages").isLessThan(1000);
    } while (marker != null && !marker.isEmpty());
    assertThat(seen).doesNotHaveDuplicates().containsAll(mine);
    assertThat(pages).isGreaterThanOrEqualTo(3);

    // The SDK's paginator walks the same list.
    List<String> paginated =
        lambda.listFunctionsPaginator(b -> b.maxItems(3)).functions().stream()
            .map(FunctionConfiguration::functionName)
            .toList();
    assertThat(paginated).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(seen);

    // One page with everything.
    List<String> all =
        lambda.listFunctions(b -> b.maxItems(50)).functions().stream()
            .map(FunctionConfiguration::functionName)
            .toList();
    assertThat(all).containsAll(mine);
  }

  @Test
  void listFunctionsPaginationCli() {
    String prefix = uniqueName("clipage");
    Set<String> mine = new HashSet<>();
    for (int i = 0; i < 4; i++) {
      String name = prefix + "-" + i;
      createFunction(name, Zips.nodeFunction());
      mine.add(name);
    }
    int total = lambda.listFunctionsPaginator(b -> b.maxItems(50)).functions().stream()
        .mapToInt(f -> 1).sum();
    assertThat(total).isGreaterThanOrEqualTo(4);

    // --max-items cuts the auto-paginated output and hands out a NextToken; --page-size forces
    // several server pages (MaxItems=2 per request, following NextMarker).
    AwsCli.Result first = cli.lambda("list-functions", "--max-items", "3", "--page-size", "2");
    JsonNode firstJson = first.json();
    assertThat(firstJson.path("Functions").size()).isEqualTo(3);
    String token = firstJson.path("NextToken").asString();
    assertThat(token).as("NextToken from %s", first).isNotBlank();
    List<String> seen = new ArrayList<>();
    firstJson.path("Functions").forEach(f -> seen.add(f.path("FunctionName").asString()));

    JsonNode rest =
        cli.lambda("list-functions", "--starting-token", token, "--page-size", "2").json();
    rest.path("Functions").forEach(f -> seen.add(f.path("FunctionName").asString()));
    assertThat(rest.path("NextToken").isMissingNode()).isTrue();
    assertThat(seen).doesNotHaveDuplicates().hasSize(total).containsAll(mine);
  }

  @Test
  void concurrentCreatesOfOneNameYieldExactlyOneFunction() throws Exception {
    String name = uniqueName("race");
    int clients = 8;
    List<byte[]> zips = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      zips.add(Zips.nodeFunction("racer" + i));
    }
    CyclicBarrier start = new CyclicBarrier(clients);
    List<Object> outcomes;
    try (var pool = Executors.newFixedThreadPool(clients)) {
      List<Future<Object>> futures = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        byte[] zip = zips.get(i);
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  try {
                    return (Object) createFunction(name, zip);
                  } catch (AwsServiceException e) {
                    return e;
                  }
                }));
      }
      outcomes = new ArrayList<>();
      for (var f : futures) {
        outcomes.add(f.get(60, TimeUnit.SECONDS));
      }
    }
    List<CreateFunctionResponse> winners =
        outcomes.stream()
            .filter(CreateFunctionResponse.class::isInstance)
            .map(CreateFunctionResponse.class::cast)
            .toList();
    assertThat(winners).as("successful creates among %s", outcomes).hasSize(1);
    outcomes.stream()
        .filter(o -> !(o instanceof CreateFunctionResponse))
        .map(AwsServiceException.class::cast)
        .forEach(
            e -> {
              assertThat(e.statusCode()).as("%s", e).isEqualTo(409);
              assertThat(e.awsErrorDetails().errorCode()).isEqualTo("ResourceConflictException");
            });
    // The stored code is the winner's code.
    GetFunctionResponse got = lambda.getFunction(b -> b.functionName(name));
    assertThat(got.configuration().codeSha256()).isEqualTo(winners.get(0).codeSha256());
    assertThat(Zips.sha256Base64(download(got.code().location())))
        .isEqualTo(winners.get(0).codeSha256());
  }

  @Test
  void concurrentUpdatesWithOneRevisionIdLetOneThrough() throws Exception {
    String name = uniqueName("race-update");
    createActiveFunction(name, Zips.nodeFunction());
    String revision = lambda.getFunctionConfiguration(b -> b.functionName(name)).revisionId();
    int clients = 6;
    CyclicBarrier start = new CyclicBarrier(clients);
    List<Object> outcomes = new ArrayList<>();
    try (var pool = Executors.newFixedThreadPool(clients)) {
      List<Future<Object>> futures = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        int timeout = 10 + i;
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  try {
                    return (Object)
                        lambda.updateFunctionConfiguration(
                            b -> b.functionName(name).timeout(timeout).revisionId(revision));
                  } catch (AwsServiceException e) {
                    return e;
                  }
                }));
      }
      for (var f : futures) {
        outcomes.add(f.get(60, TimeUnit.SECONDS));
      }
    }
    List<UpdateFunctionConfigurationResponse> winners =
        outcomes.stream()
            .filter(UpdateFunctionConfigurationResponse.class::isInstance)
            .map(UpdateFunctionConfigurationResponse.class::cast)
            .toList();
    assertThat(winners).as("successful updates among %s", outcomes).hasSize(1);
    outcomes.stream()
        .filter(o -> !(o instanceof UpdateFunctionConfigurationResponse))
        .map(AwsServiceException.class::cast)
        .forEach(
            e ->
                assertThat(e.awsErrorDetails().errorCode() + " " + e.statusCode())
                    .as("%s", e)
                    .isIn("PreconditionFailedException 412", "ResourceConflictException 409"));
    awaitUpdated(name);
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(name)).timeout())
        .isEqualTo(winners.get(0).timeout());
  }

  @Test
  void rawHttpStatusCodesMatchTheServiceModel() {
    String name = uniqueName("raw-status");
    String code = Base64.getEncoder().encodeToString(Zips.nodeFunction());
    String base = "/2015-03-31/functions";
    SignedHttp.Response created =
        http.send(
            "POST",
            base,
            "{\"FunctionName\":\"" + name + "\",\"Runtime\":\"nodejs20.x\",\"Role\":\"" + ROLE
                + "\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"" + code + "\"}}");
    assertStatus(created, 201);
    assertThat(created.header("Content-Type")).as("%s", created).startsWith("application/json");
    awaitActive(name);
    assertStatus(http.send("GET", base + "/" + name, (byte[]) null), 200);
    assertStatus(http.send("GET", base + "/" + name + "/configuration", (byte[]) null), 200);
    assertStatus(http.send("GET", base + "/?MaxItems=1", (byte[]) null), 200);
    assertStatus(http.send("POST", base + "/" + name + "/versions", "{}"), 201);
    assertStatus(http.send("GET", base + "/" + name + "/versions", (byte[]) null), 200);
    assertStatus(
        http.send(
            "POST", base + "/" + name + "/aliases", "{\"Name\":\"a\",\"FunctionVersion\":\"1\"}"),
        201);
    assertStatus(http.send("GET", base + "/" + name + "/aliases/a", (byte[]) null), 200);
    assertStatus(http.send("PUT", base + "/" + name + "/aliases/a", "{\"Description\":\"d\"}"), 200);
    assertStatus(http.send("GET", base + "/" + name + "/aliases", (byte[]) null), 200);
    assertStatus(http.send("DELETE", base + "/" + name + "/aliases/a", (byte[]) null), 204);
    String tags = "/2017-03-31/tags/" + URLEncoder.encode(arn(name), StandardCharsets.UTF_8);
    assertStatus(http.send("POST", tags, "{\"Tags\":{\"k\":\"v\"}}"), 204);
    assertStatus(http.send("GET", tags, (byte[]) null), 200);
    assertStatus(http.send("DELETE", tags + "?tagKeys=k", (byte[]) null), 204);
    assertStatus(http.send("GET", "/2016-08-19/account-settings/", (byte[]) null), 200);
    assertStatus(
        http.send("PUT", base + "/" + name + "/configuration", "{\"Timeout\":9}"), 200);
    awaitUpdated(name);
    assertStatus(
        http.send("PUT", base + "/" + name + "/code", "{\"ZipFile\":\"" + code + "\"}"), 200);
    awaitUpdated(name);
    assertStatus(http.send("DELETE", base + "/" + name + "?Qualifier=1", (byte[]) null), 204);
    SignedHttp.Response deleted = http.send("DELETE", base + "/" + name, (byte[]) null);
    assertStatus(deleted, 204);
    assertThat(deleted.body()).isEmpty();
    SignedHttp.Response missing = http.send("GET", base + "/" + name, (byte[]) null);
    assertStatus(missing, 404);
    assertThat(missing.errorType()).isEqualTo("ResourceNotFoundException");
    assertThat(missing.json().path("message").asString())
        .isEqualTo("Function not found: " + arn(name));
  }

  private static void assertStatus(SignedHttp.Response r, int status) {
    assertThat(r.status()).as("%s", r).isEqualTo(status);
    assertThat(r.header("x-amzn-RequestId")).as("x-amzn-RequestId of %s", r).isNotBlank();
  }

  @Test
  void codeLocationIsSignedAndTamperProof() {
    String name = uniqueName("location");
    byte[] zip = Zips.nodeFunction();
    createFunction(name, zip);
    String location = lambda.getFunction(b -> b.functionName(name)).code().location();
    assertThat(download(location)).isEqualTo(zip);
    URI uri = URI.create(location);
    assertThat(uri.getRawQuery()).as("Location %s carries a signature", location).isNotBlank();
    // Flip one character of the query (the signature or the expiry): the link no longer works.
    String query = uri.getRawQuery();
    int last = query.length() - 1;
    char flipped = query.charAt(last) == '0' ? '1' : '0';
    String tampered = location.substring(0, location.length() - 1) + flipped;
    assertThat(getStatus(tampered)).as("GET %s", tampered).isBetween(400, 499);
    String unsigned = location.substring(0, location.indexOf('?'));
    assertThat(getStatus(unsigned)).as("GET %s", unsigned).isBetween(400, 499);
  }

  private static int getStatus(String url) {
    try {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create(url)).GET().build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void largeIncompressibleZipRoundTrips() {
    // 12 MiB of random bytes, stored uncompressed: many storage chunks, a ragged last one.
    byte[] content = new byte[12 * 1024 * 1024 + 12345];
    new Random(42).nextBytes(content);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.setLevel(Deflater.NO_COMPRESSION);
      zip.putNextEntry(new ZipEntry("index.js"));
      zip.write("exports.handler = async () => 1;\n".getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
      zip.putNextEntry(new ZipEntry("blob.bin"));
      zip.write(content);
      zip.closeEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] zip = bytes.toByteArray();
    String name = uniqueName("large");
    CreateFunctionResponse created = createFunction(name, zip);
    assertThat(created.codeSize()).isEqualTo(zip.length);
    assertThat(created.codeSha256()).isEqualTo(Zips.sha256Base64(zip));
    assertThat(download(lambda.getFunction(b -> b.functionName(name)).code().location()))
        .isEqualTo(zip);
    lambda.deleteFunction(b -> b.functionName(name));
  }

  @Test
  void listFunctionsReturnsAtMost50PerPage() {
    String prefix = uniqueName("many");
    int existing = lambda.listFunctionsPaginator(b -> b.maxItems(50)).functions().stream()
        .mapToInt(f -> 1).sum();
    for (int i = existing; i < 53; i++) {
      createFunction(prefix + "-" + i, Zips.nodeFunction());
    }
    ListFunctionsResponse unbounded = lambda.listFunctions();
    assertThat(unbounded.functions()).hasSize(50);
    assertThat(unbounded.nextMarker()).isNotBlank();
    ListFunctionsResponse big = lambda.listFunctions(b -> b.maxItems(1000));
    assertThat(big.functions()).hasSize(50);
    ListFunctionsResponse rest = lambda.listFunctions(b -> b.marker(big.nextMarker()).maxItems(1000));
    assertThat(rest.functions()).hasSizeGreaterThanOrEqualTo(3);
    assertThat(rest.functions().stream().map(FunctionConfiguration::functionName))
        .doesNotContainAnyElementsOf(
            big.functions().stream().map(FunctionConfiguration::functionName).toList());
  }
}
