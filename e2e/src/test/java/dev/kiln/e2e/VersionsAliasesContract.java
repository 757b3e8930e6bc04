package dev.kiln.e2e;

import static dev.kiln.e2e.support.Sdk.expectError;
import static dev.kiln.e2e.support.Sdk.expectOneOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.kiln.e2e.support.AwsCli;
import dev.kiln.e2e.support.KilnTestBase;
import dev.kiln.e2e.support.Zips;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.AliasConfiguration;
import software.amazon.awssdk.services.lambda.model.CreateAliasResponse;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetAliasResponse;
import software.amazon.awssdk.services.lambda.model.ListAliasesResponse;
import software.amazon.awssdk.services.lambda.model.ListVersionsByFunctionResponse;
import software.amazon.awssdk.services.lambda.model.PublishVersionResponse;
import software.amazon.awssdk.services.lambda.model.UpdateAliasResponse;
import tools.jackson.databind.JsonNode;

/** PublishVersion, ListVersionsByFunction, and the alias operations with weighted routing. */
abstract class VersionsAliasesContract extends KilnTestBase {

  /** Creates an Active function with versions 1..n, each from different code. */
  private List<byte[]> functionWithVersions(String name, int versions) {
    List<byte[]> zips = new ArrayList<>();
    byte[] first = Zips.nodeFunction("v1");
    createActiveFunction(name, first);
    for (int v = 1; v <= versions; v++) {
      byte[] zip = v == 1 ? first : Zips.nodeFunction("v" + v);
      if (v > 1) {
        lambda.updateFunctionCode(b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(zip)));
        awaitUpdated(name);
      }
      String expected = String.valueOf(v);
      assertThat(lambda.publishVersion(b -> b.functionName(name)).version()).isEqualTo(expected);
      zips.add(zip);
    }
    return zips;
  }

  @Test
  void cliVersionsAndAliases() {
    String name = uniqueName("cli-va");
    byte[] zip1 = Zips.nodeFunction("one");
    cli.lambda(
            "create-function",
            "--function-name", name,
            "--runtime", "nodejs22.x",
            "--role", ROLE,
            "--handler", "index.handler",
            "--zip-file", zipFileArg(zip1))
        .assertOk();
    awaitActive(name);

    JsonNode v1 = cli.lambda("publish-version", "--function-name", name, "--description", "first").json();
    assertThat(v1.path("Version").asString()).isEqualTo("1");
    assertThat(v1.path("FunctionArn").asString()).isEqualTo(arn(name) + ":1");
    assertThat(v1.path("Description").asString()).isEqualTo("first");
    assertThat(v1.path("CodeSha256").asString()).isEqualTo(Zips.sha256Base64(zip1));
    // Nothing changed: the same version again.
    assertThat(cli.lambda("publish-version", "--function-name", name).json().path("Version").asString())
        .isEqualTo("1");

    byte[] zip2 = Zips.nodeFunction("two");
    lambda.updateFunctionCode(b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(zip2)));
    awaitUpdated(name);
    JsonNode v2 =
        cli.lambda(
                "publish-version",
                "--function-name", name,
                "--code-sha256", Zips.sha256Base64(zip2))
            .json();
    assertThat(v2.path("Version").asString()).isEqualTo("2");

    JsonNode versions = cli.lambda("list-versions-by-function", "--function-name", name).json();
    List<String> listed = new ArrayList<>();
    versions.path("Versions").forEach(v -> listed.add(v.path("Version").asString()));
    assertThat(listed).containsExactly("$LATEST", "1", "2");

    JsonNode alias =
        cli.lambda(
                "create-alias",
                "--function-name", name,
                "--name", "live",
                "--function-version", "1",
                "--description", "canary",
                "--routing-config", "{\"AdditionalVersionWeights\":{\"2\":0.3}}")
            .json();
    assertThat(alias.path("AliasArn").asString()).isEqualTo(arn(name) + ":live");
    assertThat(alias.path("Name").asString()).isEqualTo("live");
    assertThat(alias.path("FunctionVersion").asString()).isEqualTo("1");
    assertThat(alias.path("Description").asString()).isEqualTo("canary");
    assertThat(alias.path("RoutingConfig").path("AdditionalVersionWeights").path("2").asDouble())
        .isCloseTo(0.3, within(1e-9));
    assertThat(alias.path("RevisionId").asString()).isNotBlank();

    cli.lambda("create-alias", "--function-name", name, "--name", "live", "--function-version", "2")
        .assertError("ResourceConflictException");
    AwsCli.Result toMissing =
        cli.lambda(
            "create-alias", "--function-name", name, "--name", "ghost", "--function-version", "99");
    assertThat(toMissing.exitCode()).isNotZero();
    assertThat(toMissing.errorCode())
        .as("%s", toMissing)
        .isIn("ResourceNotFoundException", "InvalidParameterValueException");

    JsonNode got = cli.lambda("get-alias", "--function-name", name, "--name", "live").json();
    assertThat(got.path("FunctionVersion").asString()).isEqualTo("1");
    assertThat(got.path("RevisionId").asString()).isEqualTo(alias.path("RevisionId").asString());

    JsonNode updated =
        cli.lambda(
                "update-alias",
                "--function-name", name,
                "--name", "live",
                "--function-version", "2",
                "--routing-config", "{\"AdditionalVersionWeights\":{}}",
                "--revision-id", got.path("RevisionId").asString())
            .json();
    assertThat(updated.path("FunctionVersion").asString()).isEqualTo("2");
    assertThat(updated.path("RevisionId").asString()).isNotEqualTo(got.path("RevisionId").asString());
    assertThat(updated.path("RoutingConfig").path("AdditionalVersionWeights").size()).isZero();

    cli.lambda("create-alias", "--function-name", name, "--name", "old", "--function-version", "1")
        .assertOk();
    JsonNode aliases = cli.lambda("list-aliases", "--function-name", name).json();
    List<String> names = new ArrayList<>();
    aliases.path("Aliases").forEach(a -> names.add(a.path("Name").asString()));
    assertThat(names).containsExactlyInAnyOrder("live", "old");
    JsonNode onlyV1 =
        cli.lambda("list-aliases", "--function-name", name, "--function-version", "1").json();
    assertThat(onlyV1.path("Aliases").size()).isEqualTo(1);
    assertThat(onlyV1.path("Aliases").get(0).path("Name").asString()).isEqualTo("old");

    cli.lambda("delete-alias", "--function-name", name, "--name", "old").assertOk();
    cli.lambda("get-alias", "--function-name", name, "--name", "old")
        .assertError("ResourceNotFoundException");
  }

  @Test
  void publishVersionPreconditions() {
    String name = uniqueName("publish");
    byte[] zip = Zips.nodeFunction();
    createActiveFunction(name, zip);
    String revision = lambda.getFunctionConfiguration(b -> b.functionName(name)).revisionId();

    expectError(
        400,
        "InvalidParameterValueException",
        () -> lambda.publishVersion(b -> b.functionName(name).codeSha256(Zips.sha256Base64(new byte[] {1}))));
    expectError(
        412,
        "PreconditionFailedException",
        () -> lambda.publishVersion(b -> b.functionName(name).revisionId("11111111-2222-3333-4444-555555555555")));
    // The refused publishes created nothing.
    assertThat(
            lambda.listVersionsByFunction(b -> b.functionName(name)).versions().stream()
                .map(FunctionConfiguration::version))
        .containsExactly("$LATEST");

    PublishVersionResponse v1 =
        lambda.publishVersion(
            b -> b.functionName(name).codeSha256(Zips.sha256Base64(zip)).revisionId(revision).description("v1"));
    assertThat(v1.version()).isEqualTo("1");
    assertThat(v1.functionArn()).isEqualTo(arn(name) + ":1");
    assertThat(v1.codeSha256()).isEqualTo(Zips.sha256Base64(zip));
    assertThat(v1.codeSize()).isEqualTo(zip.length);
    assertThat(v1.description()).isEqualTo("v1");
    assertThat(v1.lastModified()).matches(LAST_MODIFIED_PATTERN);
    assertThat(v1.revisionId()).isNotBlank();

    // No change since version 1: publishing returns version 1 again.
    assertThat(lambda.publishVersion(b -> b.functionName(name)).version()).isEqualTo("1");

    // A configuration change is a change.
    lambda.updateFunctionConfiguration(b -> b.functionName(name).memorySize(256));
    awaitUpdated(name);
    PublishVersionResponse v2 = lambda.publishVersion(b -> b.functionName(name));
    assertThat(v2.version()).isEqualTo("2");
    assertThat(v2.memorySize()).isEqualTo(256);
    // Versions are immutable: version 1 keeps its configuration.
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(name).qualifier("1")).memorySize())
        .isEqualTo(128);

    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.publishVersion(b -> b.functionName(uniqueName("missing"))));
  }

  @Test
  void listVersionsOrderAndPaging() {
    String name = uniqueName("versions");
    List<byte[]> zips = functionWithVersions(name, 3);
    // Versions 4..11 differ in configuration only: numbering and order must be numeric (10 after 9).
    List<String> expected = new ArrayList<>(List.of("$LATEST", "1", "2", "3"));
    for (int v = 4; v <= 11; v++) {
      int timeout = v;
      lambda.updateFunctionConfiguration(b -> b.functionName(name).timeout(timeout));
      awaitUpdated(name);
      assertThat(lambda.publishVersion(b -> b.functionName(name)).version()).isEqualTo(String.valueOf(v));
      expected.add(String.valueOf(v));
    }
    ListVersionsByFunctionResponse all = lambda.listVersionsByFunction(b -> b.functionName(name));
    assertThat(all.versions().stream().map(FunctionConfiguration::version))
        .containsExactlyElementsOf(expected);
    assertThat(all.versions().get(11).timeout()).isEqualTo(11);
    assertThat(all.versions().get(0).codeSha256()).isEqualTo(Zips.sha256Base64(zips.get(2)));
    for (int v = 1; v <= 3; v++) {
      FunctionConfiguration version = all.versions().get(v);
      assertThat(version.functionArn()).isEqualTo(arn(name) + ":" + v);
      assertThat(version.codeSha256()).isEqualTo(Zips.sha256Base64(zips.get(v - 1)));
    }

    List<String> paged = new ArrayList<>();
    String marker = null;
    do {
      String m = marker;
      ListVersionsByFunctionResponse page =
          lambda.listVersionsByFunction(b -> b.functionName(name).maxItems(3).marker(m));
      assertThat(page.versions()).hasSizeLessThanOrEqualTo(3);
      page.versions().forEach(v -> paged.add(v.version()));
      marker = page.nextMarker();
    } while (marker != null && !marker.isEmpty() && paged.size() < 100);
    assertThat(paged).containsExactlyElementsOf(expected);

    assertThat(
            lambda.listVersionsByFunctionPaginator(b -> b.functionName(arn(name)).maxItems(1))
                .versions().stream()
                .map(FunctionConfiguration::version))
        .containsExactlyElementsOf(expected);
  }

  @Test
  void sdkAliasesWithRouting() {
    String name = uniqueName("aliases");
    functionWithVersions(name, 2);
    CreateAliasResponse created =
        lambda.createAlias(
            b ->
                b.functionName(name)
                    .name("live")
                    .functionVersion("1")
                    .description("70/30")
                    .routingConfig(r -> r.additionalVersionWeights(Map.of("2", 0.3))));
    assertThat(created.aliasArn()).isEqualTo(arn(name) + ":live");
    assertThat(created.functionVersion()).isEqualTo("1");
    assertThat(created.routingConfig().additionalVersionWeights()).containsEntry("2", 0.3);

    GetAliasResponse got = lambda.getAlias(b -> b.functionName(arn(name)).name("live"));
    assertThat(got.name()).isEqualTo("live");
    assertThat(got.description()).isEqualTo("70/30");
    assertThat(got.routingConfig().additionalVersionWeights()).isEqualTo(Map.of("2", 0.3));
    assertThat(got.revisionId()).isEqualTo(created.revisionId());

    // The alias is a qualifier everywhere a version is.
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(name).qualifier("live")).version())
        .isEqualTo("1");
    assertThat(lambda.getFunction(b -> b.functionName(name + ":live")).configuration().version())
        .isEqualTo("1");

    expectError(
        409,
        "ResourceConflictException",
        () -> lambda.createAlias(b -> b.functionName(name).name("live").functionVersion("2")));
    expectOneOf(
        () -> lambda.createAlias(b -> b.functionName(name).name("nope").functionVersion("42")),
        404, "ResourceNotFoundException", 400, "InvalidParameterValueException");
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.createAlias(b -> b.functionName(uniqueName("missing")).name("a").functionVersion("1")));
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.getAlias(b -> b.functionName(name).name("absent")));
    expectError(
        412,
        "PreconditionFailedException",
        () -> lambda.updateAlias(b -> b.functionName(name).name("live").functionVersion("2").revisionId("stale")));

    UpdateAliasResponse updated =
        lambda.updateAlias(
            b ->
                b.functionName(name)
                    .name("live")
                    .functionVersion("2")
                    .revisionId(got.revisionId())
                    .routingConfig(r -> r.additionalVersionWeights(Map.of("1", 0.05))));
    assertThat(updated.functionVersion()).isEqualTo("2");
    assertThat(updated.routingConfig().additionalVersionWeights()).isEqualTo(Map.of("1", 0.05));
    assertThat(updated.revisionId()).isNotEqualTo(got.revisionId());
    // Only the fields given change.
    assertThat(updated.description()).isEqualTo("70/30");

    lambda.createAlias(b -> b.functionName(name).name("beta").functionVersion("$LATEST"));
    lambda.createAlias(b -> b.functionName(name).name("stable").functionVersion("1"));
    ListAliasesResponse list = lambda.listAliases(b -> b.functionName(partialArn(name)));
    assertThat(list.aliases().stream().map(AliasConfiguration::name))
        .containsExactlyInAnyOrder("live", "beta", "stable");
    assertThat(
            lambda.listAliases(b -> b.functionName(name).functionVersion("2")).aliases().stream()
                .map(AliasConfiguration::name))
        .containsExactly("live");
    assertThat(
            lambda.listAliasesPaginator(b -> b.functionName(name).maxItems(1)).aliases().stream()
                .map(AliasConfiguration::name))
        .containsExactlyInAnyOrder("live", "beta", "stable");

    lambda.deleteAlias(b -> b.functionName(name).name("beta"));
    expectError(
        404, "ResourceNotFoundException", () -> lambda.getAlias(b -> b.functionName(name).name("beta")));
    assertThat(lambda.listAliases(b -> b.functionName(name)).aliases()).hasSize(2);
  }
}
