package dev.kiln.e2e;

import static dev.kiln.e2e.support.Sdk.expectError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Curl;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.SignedHttp;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import software.amazon.awssdk.services.lambda.model.FunctionUrlConfig;
import software.amazon.awssdk.services.lambda.model.InvokeMode;
import software.amazon.awssdk.services.lambda.model.ListFunctionUrlConfigsResponse;
import tools.jackson.databind.JsonNode;

/**
 * Create/Get/Update/Delete/ListFunctionUrlConfigs through the real aws CLI, the AWS SDK for Java
 * v2 and raw signed HTTP: Lambda's members, statuses, errors and paging, and a URL's life bound to
 * its function's.
 */
class FunctionUrlConfigTest extends InvokeTestBase {
  private static final String CREATION_TIME = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z";
  private static final String HELLO = "exports.handler = async () => 'hello';";

  private Pattern urlPattern() {
    return Pattern.compile("http://([a-z0-9]{32})\\.lambda-url\\.us-east-1\\.localhost:" + server.port() + "/");
  }

  private String function(String prefix) {
    return deploy(prefix, "nodejs22.x", "index.handler", Functions.node(HELLO));
  }

  private void alias(String function, String alias) {
    lambda.createAlias(b -> b.functionName(function).name(alias).functionVersion("$LATEST"));
  }

  @Test
  void the_cli_creates_reads_updates_lists_and_deletes_a_url() {
    String name = function("url-cli");
    JsonNode created = cli.lambda("create-function-url-config", "--function-name", name, "--auth-type", "NONE",
        "--cors", "{\"AllowOrigins\":[\"https://example.com\"],\"AllowMethods\":[\"GET\",\"POST\"],"
            + "\"AllowHeaders\":[\"x-custom\"],\"ExposeHeaders\":[\"x-exposed\"],\"MaxAge\":300,"
            + "\"AllowCredentials\":true}").json();
    String url = created.path("FunctionUrl").asString();
    assertThat(url).matches(urlPattern());
    assertThat(created.path("FunctionArn").asString()).isEqualTo(arn(name));
    assertThat(created.path("AuthType").asString()).isEqualTo("NONE");
    assertThat(created.path("CreationTime").asString()).matches(CREATION_TIME);
    assertThat(created.has("LastModifiedTime")).as("creation answer: %s", created).isFalse();
    assertThat(created.path("Cors").path("AllowOrigins").get(0).asString()).isEqualTo("https://example.com");
    assertThat(created.path("Cors").path("AllowMethods")).hasSize(2);
    assertThat(created.path("Cors").path("MaxAge").asInt()).isEqualTo(300);
    assertThat(created.path("Cors").path("AllowCredentials").asBoolean()).isTrue();

    JsonNode got = cli.lambda("get-function-url-config", "--function-name", name).json();
    assertThat(got.path("FunctionUrl").asString()).isEqualTo(url);
    // (aws CLI 2.9 predates InvokeMode and leaves it out of what it prints; the SDK test checks it.)
    assertThat(got.path("LastModifiedTime").asString()).matches(CREATION_TIME);
    assertThat(got.path("Cors").path("ExposeHeaders").get(0).asString()).isEqualTo("x-exposed");

    JsonNode updated = cli.lambda("update-function-url-config", "--function-name", name, "--auth-type", "AWS_IAM")
        .json();
    assertThat(updated.path("AuthType").asString()).isEqualTo("AWS_IAM");
    assertThat(updated.path("FunctionUrl").asString()).as("the URL never changes").isEqualTo(url);
    assertThat(updated.path("CreationTime").asString()).isEqualTo(created.path("CreationTime").asString());
    assertThat(updated.path("LastModifiedTime").asString()).isGreaterThanOrEqualTo(got.path("LastModifiedTime")
        .asString());
    assertThat(updated.path("Cors").path("MaxAge").asInt()).as("members left out keep their values").isEqualTo(300);

    JsonNode listed = cli.lambda("list-function-url-configs", "--function-name", name).json();
    assertThat(listed.path("FunctionUrlConfigs")).hasSize(1);
    assertThat(listed.path("FunctionUrlConfigs").get(0).path("AuthType").asString()).isEqualTo("AWS_IAM");

    cli.lambda("delete-function-url-config", "--function-name", name).assertOk();
    cli.lambda("get-function-url-config", "--function-name", name).assertError("ResourceNotFoundException");
    cli.lambda("delete-function-url-config", "--function-name", name).assertError("ResourceNotFoundException");
    assertThat(cli.lambda("list-function-url-configs", "--function-name", name).json().path("FunctionUrlConfigs"))
        .isEmpty();
  }

  @Test
  void the_cli_reports_lambdas_errors() {
    String name = function("url-cli-errors");
    cli.lambda("create-function-url-config", "--function-name", name, "--auth-type", "NONE").assertOk();
    var duplicate = cli.lambda("create-function-url-config", "--function-name", name, "--auth-type", "NONE")
        .assertError("ResourceConflictException");
    assertThat(duplicate.stderr()).contains("FunctionUrlConfig exists for this Lambda function");
    cli.lambda("create-function-url-config", "--function-name", uniqueName("nothing"), "--auth-type", "NONE")
        .assertError("ResourceNotFoundException");
    cli.lambda("get-function-url-config", "--function-name", name, "--qualifier", "1")
        .assertError("ValidationException");
    cli.lambda("create-function-url-config", "--function-name", name, "--auth-type", "SOMETIMES")
        .assertError("ValidationException");
    cli.lambda("list-function-url-configs", "--function-name", uniqueName("nothing"))
        .assertError("ResourceNotFoundException");
  }

  @Test
  void the_sdk_manages_alias_urls_with_invoke_modes() {
    String name = function("url-sdk");
    alias(name, "live");
    var own = lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.NONE));
    assertThat(own.invokeMode()).as("not given, not reported").isNull();
    var live = lambda.createFunctionUrlConfig(b -> b.functionName(name).qualifier("live")
        .authType(FunctionUrlAuthType.AWS_IAM).invokeMode(InvokeMode.RESPONSE_STREAM)
        .cors(c -> c.allowOrigins("*").maxAge(10)));
    assertThat(live.functionArn()).isEqualTo(arn(name) + ":live");
    assertThat(live.invokeMode()).isEqualTo(InvokeMode.RESPONSE_STREAM);
    assertThat(live.cors().allowOrigins()).containsExactly("*");
    var ownId = urlId(own.functionUrl());
    var liveId = urlId(live.functionUrl());
    assertThat(ownId).isNotEqualTo(liveId);

    var got = lambda.getFunctionUrlConfig(b -> b.functionName(name + ":live"));
    assertThat(got.functionUrl()).isEqualTo(live.functionUrl());
    assertThat(got.authType()).isEqualTo(FunctionUrlAuthType.AWS_IAM);

    var updated = lambda.updateFunctionUrlConfig(b -> b.functionName(name).qualifier("live")
        .invokeMode(InvokeMode.BUFFERED));
    assertThat(updated.invokeMode()).isEqualTo(InvokeMode.BUFFERED);
    assertThat(updated.authType()).isEqualTo(FunctionUrlAuthType.AWS_IAM);
    assertThat(updated.functionUrl()).isEqualTo(live.functionUrl());
    // An update without InvokeMode keeps the mode; one with it reports it.
    assertThat(lambda.updateFunctionUrlConfig(b -> b.functionName(name).qualifier("live")
        .authType(FunctionUrlAuthType.NONE)).invokeMode()).isEqualTo(InvokeMode.BUFFERED);

    ListFunctionUrlConfigsResponse all = lambda.listFunctionUrlConfigs(b -> b.functionName(name));
    assertThat(all.functionUrlConfigs()).extracting(FunctionUrlConfig::functionArn)
        .containsExactly(arn(name), arn(name) + ":live");
    assertThat(all.functionUrlConfigs()).allSatisfy(c -> assertThat(c.invokeMode()).isEqualTo(InvokeMode.BUFFERED));
    assertThat(all.nextMarker()).isNull();

    lambda.deleteFunctionUrlConfig(b -> b.functionName(name).qualifier("live"));
    assertThat(lambda.listFunctionUrlConfigs(b -> b.functionName(name)).functionUrlConfigs())
        .extracting(FunctionUrlConfig::functionUrl).containsExactly(own.functionUrl());
  }

  @Test
  void listing_pages_with_marker_and_max_items() {
    String name = function("url-pages");
    List<String> expected = new ArrayList<>(List.of(arn(name)));
    lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.NONE));
    for (var alias : List.of("a1", "a2", "a3", "a4")) {
      alias(name, alias);
      lambda.createFunctionUrlConfig(b -> b.functionName(name).qualifier(alias).authType(FunctionUrlAuthType.NONE));
      expected.add(arn(name) + ":" + alias);
    }
    List<String> seen = new ArrayList<>();
    String marker = null;
    int pages = 0;
    do {
      var current = marker;
      var page = lambda.listFunctionUrlConfigs(b -> b.functionName(name).maxItems(2).marker(current));
      assertThat(page.functionUrlConfigs().size()).isLessThanOrEqualTo(2);
      page.functionUrlConfigs().forEach(c -> seen.add(c.functionArn()));
      marker = page.nextMarker();
      pages++;
    } while (marker != null && pages < 10);
    assertThat(seen).containsExactlyElementsOf(expected);
    assertThat(pages).isEqualTo(3);
    // The SDK's paginator walks the same pages.
    assertThat(lambda.listFunctionUrlConfigsPaginator(b -> b.functionName(name).maxItems(1)).functionUrlConfigs()
        .stream().map(FunctionUrlConfig::functionArn).toList()).containsExactlyElementsOf(expected);
  }

  @Test
  void bad_requests_get_lambdas_errors() {
    String name = function("url-errors");
    alias(name, "live");
    lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.NONE));

    var conflict = expectError(409, "ResourceConflictException",
        () -> lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.AWS_IAM)));
    assertThat(conflict.awsErrorDetails().errorMessage()).isEqualTo("Failed to create function url config for "
        + "[functionArn = " + arn(name) + "]. Error message:  FunctionUrlConfig exists for this Lambda function");

    String missing = uniqueName("missing");
    assertThat(expectError(404, "ResourceNotFoundException", () -> lambda.createFunctionUrlConfig(
        b -> b.functionName(missing).authType(FunctionUrlAuthType.NONE))).awsErrorDetails().errorMessage())
        .isEqualTo("Function does not exist");
    assertThat(expectError(404, "ResourceNotFoundException",
        () -> lambda.getFunctionUrlConfig(b -> b.functionName(missing))).awsErrorDetails().errorMessage())
        .isEqualTo("The resource you requested does not exist.");
    expectError(404, "ResourceNotFoundException", () -> lambda.createFunctionUrlConfig(
        b -> b.functionName(name).qualifier("no-such-alias").authType(FunctionUrlAuthType.NONE)));
    expectError(404, "ResourceNotFoundException",
        () -> lambda.getFunctionUrlConfig(b -> b.functionName(name).qualifier("live")));
    expectError(404, "ResourceNotFoundException",
        () -> lambda.updateFunctionUrlConfig(b -> b.functionName(name).qualifier("live").authType("NONE")));
    expectError(404, "ResourceNotFoundException",
        () -> lambda.listFunctionUrlConfigs(b -> b.functionName(missing)));

    // A URL belongs to $LATEST or an alias, never to a version number.
    lambda.publishVersion(b -> b.functionName(name));
    var version = expectError(400, "ValidationException", () -> lambda.createFunctionUrlConfig(
        b -> b.functionName(name).qualifier("1").authType(FunctionUrlAuthType.NONE)));
    assertThat(version.awsErrorDetails().errorMessage()).isEqualTo("1 validation error detected: Value '1' at "
        + "'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: "
        + "((?!^\\d+$)^[0-9a-zA-Z-_]+$)");
    expectError(400, "ValidationException",
        () -> lambda.getFunctionUrlConfig(b -> b.functionName(name).qualifier("$LATEST")));
    expectError(400, "ValidationException", () -> lambda.deleteFunctionUrlConfig(b -> b.functionName(name + ":1")));
    expectError(400, "InvalidParameterValueException",
        () -> lambda.getFunctionUrlConfig(b -> b.functionName(name + ":live").qualifier("other")));

    var enumValue = expectError(400, "ValidationException", () -> lambda.createFunctionUrlConfig(
        b -> b.functionName(name).qualifier("live").authType("OPEN").invokeMode("SOMETIMES")));
    assertThat(enumValue.awsErrorDetails().errorMessage())
        .startsWith("2 validation errors detected: ")
        .contains("Value 'OPEN' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: "
            + "[AWS_IAM, NONE]")
        .contains("Value 'SOMETIMES' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value "
            + "set: [RESPONSE_STREAM, BUFFERED]");
    expectError(400, "ValidationException", () -> lambda.createFunctionUrlConfig(
        b -> b.functionName(name).qualifier("live").authType(FunctionUrlAuthType.NONE).cors(c -> c.maxAge(86_401))));
    expectError(400, "ValidationException", () -> lambda.createFunctionUrlConfig(
        b -> b.functionName(name).qualifier("live").authType(FunctionUrlAuthType.NONE)
            .cors(c -> c.allowMethods("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))));
    // Nothing of the refused requests was stored.
    expectError(404, "ResourceNotFoundException",
        () -> lambda.getFunctionUrlConfig(b -> b.functionName(name).qualifier("live")));
  }

  @Test
  void raw_http_sees_lambdas_statuses_and_required_members() {
    String name = function("url-raw");
    String path = "/2021-10-31/functions/" + name + "/url";
    SignedHttp.Response noAuthType = http.send("POST", path, "{}");
    assertThat(noAuthType.status()).isEqualTo(400);
    assertThat(noAuthType.errorType()).isEqualTo("ValidationException");
    assertThat(noAuthType.body()).contains("Value null at 'authType' failed to satisfy constraint: Member must not "
        + "be null");

    SignedHttp.Response created = http.send("POST", path, "{\"AuthType\":\"NONE\",\"InvokeMode\":\"BUFFERED\"}");
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    assertThat(created.json().path("InvokeMode").asString()).isEqualTo("BUFFERED");
    assertThat(http.send("GET", path, (byte[]) null).status()).isEqualTo(200);
    assertThat(http.send("PUT", path, "{\"AuthType\":\"AWS_IAM\"}").status()).isEqualTo(200);
    SignedHttp.Response badList = http.send("GET", "/2021-10-31/functions/" + name + "/urls?MaxItems=0", (byte[]) null);
    assertThat(badList.status()).isEqualTo(400);
    assertThat(badList.errorType()).isEqualTo("ValidationException");
    assertThat(http.send("DELETE", path, (byte[]) null).status()).isEqualTo(204);
    assertThat(http.send("DELETE", path, (byte[]) null).status()).isEqualTo(404);
    // The config API is signed like any Lambda call.
    var unsigned = http.sendRaw(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.endpoint() + path))
        .GET().build());
    assertThat(unsigned.status()).isEqualTo(403);
  }

  @Test
  void deleting_the_function_deletes_its_urls() {
    String name = function("url-cascade");
    alias(name, "live");
    var own = lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.NONE));
    lambda.createFunctionUrlConfig(b -> b.functionName(name).qualifier("live").authType(FunctionUrlAuthType.NONE));
    var curl = new Curl(workDir.resolve("curl"));
    assertThat(curl.get(own.functionUrl()).text()).isEqualTo("hello");

    lambda.deleteFunction(b -> b.functionName(name));
    // The URL stops answering at once: Lambda's 403 for a URL that does not exist.
    var gone = curl.get(own.functionUrl());
    assertThat(gone.status()).isEqualTo(403);
    assertThat(gone.text()).isEqualTo("{\"Message\":null}");

    createFunction(name, Functions.node(HELLO), b -> b.runtime("nodejs22.x"));
    awaitActive(name);
    assertThat(lambda.listFunctionUrlConfigs(b -> b.functionName(name)).functionUrlConfigs()).isEmpty();
    expectError(404, "ResourceNotFoundException", () -> lambda.getFunctionUrlConfig(b -> b.functionName(name)));
    var again = lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.NONE));
    assertThat(again.functionUrl()).as("a new URL is a new address").isNotEqualTo(own.functionUrl());
  }

  @Test
  void accepted_urls_survive_a_crash_of_the_server() {
    String name = function("url-crash");
    var created = lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.NONE));
    server.crash();
    server.restart();
    connectClients();
    var got = lambda.getFunctionUrlConfig(b -> b.functionName(name));
    assertThat(got.functionUrl()).isEqualTo(created.functionUrl());
    assertThat(new Curl(workDir.resolve("curl")).get(created.functionUrl()).text()).isEqualTo("hello");
  }

  private String urlId(String url) {
    var match = urlPattern().matcher(url);
    assertThat(match.matches()).as(url).isTrue();
    return match.group(1);
  }
}
