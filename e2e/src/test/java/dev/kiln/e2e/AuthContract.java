package dev.kiln.e2e;

import static dev.kiln.e2e.support.Sdk.expectError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.AwsCli;
import dev.kiln.e2e.support.Credentials;
import dev.kiln.e2e.support.KilnTestBase;
import dev.kiln.e2e.support.Sdk;
import dev.kiln.e2e.support.SignedHttp;
import dev.kiln.e2e.support.Zips;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.LambdaClient;
import tools.jackson.databind.JsonNode;

/**
 * SigV4 authentication with the credentials a server generates on first start (no
 * --dev-credentials): good keys work, wrong ones are refused with Lambda's 403 codes, and the keys
 * survive a restart.
 */
abstract class AuthContract extends KilnTestBase {
  private static final String LIST = "/2015-03-31/functions/";

  @Override
  protected boolean devCredentials() {
    return false;
  }

  private Path credentialsFile() {
    return server.dataDir().resolve("credentials");
  }

  @Test
  void theReadmeQuickstartWorksWithTheGeneratedCredentials() {
    assertThat(accessKey).isNotBlank().isNotEqualTo(DEV_KEY);
    assertThat(secretKey).isNotBlank().isNotEqualTo(DEV_SECRET);
    // The README: AWS_SHARED_CREDENTIALS_FILE=.kiln/credentials AWS_REGION=us-east-1, then
    // aws lambda <command> --endpoint-url http://127.0.0.1:PORT ...
    AwsCli readme =
        AwsCli.withCredentialsFile(server.endpoint(), credentialsFile(), workDir.resolve("readme-home"));
    String k = "--endpoint-url";
    String endpoint = server.endpoint();
    String name = uniqueName("hello");
    byte[] zip =
        Zips.zip(
            "index.js",
            "exports.handler = async (event) => ({ hello: event.name });\n"
                .getBytes(StandardCharsets.UTF_8));
    readme
        .raw(
            "lambda", "create-function", k, endpoint,
            "--function-name", name,
            "--runtime", "nodejs22.x",
            "--handler", "index.handler",
            "--role", "arn:aws:iam::000000000000:role/kiln",
            "--zip-file", zipFileArg(zip))
        .assertOk();
    AwsCli.Result list = readme.raw("lambda", "list-functions", k, endpoint);
    JsonNode functions = list.json().path("Functions");
    assertThat(functions.isArray()).as("%s", list).isTrue();
    assertThat(functions.findValuesAsString("FunctionName")).as("%s", list).contains(name);
    awaitActive(name);
    assertThat(
            readme.raw("lambda", "publish-version", k, endpoint, "--function-name", name)
                .json().path("Version").asString())
        .isEqualTo("1");
    readme
        .raw(
            "lambda", "create-alias", k, endpoint,
            "--function-name", name, "--name", "live", "--function-version", "1")
        .assertOk();
    JsonNode got =
        readme.raw("lambda", "get-function", k, endpoint, "--function-name", name + ":live").json();
    assertThat(got.path("Configuration").path("Version").asString()).isEqualTo("1");
    assertThat(download(got.path("Code").path("Location").asString())).isEqualTo(zip);
  }

  @Test
  void devCredentialsAreNotAcceptedWithoutTheFlag() {
    try (LambdaClient dev = Sdk.lambda(server.endpoint(), DEV_KEY, DEV_SECRET)) {
      expectError(403, "UnrecognizedClientException", dev::listFunctions);
    }
  }

  @Test
  void wrongSecretIsInvalidSignature() {
    try (LambdaClient wrong = Sdk.lambda(server.endpoint(), accessKey, secretKey + "x")) {
      expectError(403, "InvalidSignatureException", wrong::listFunctions);
      expectError(
          403,
          "InvalidSignatureException",
          () -> wrong.createFunction(b -> b.functionName(uniqueName("nope")).runtime("nodejs20.x")
              .role(ROLE).handler("index.handler")
              .code(c -> c.zipFile(software.amazon.awssdk.core.SdkBytes.fromByteArray(Zips.nodeFunction())))));
    }
    AwsCli.withKeys(server.endpoint(), accessKey, "wrong-secret", workDir.resolve("wrong-home"))
        .lambda("list-functions")
        .assertError("InvalidSignatureException");
  }

  @Test
  void unknownKeyIsUnrecognizedClient() {
    try (LambdaClient unknown = Sdk.lambda(server.endpoint(), "AKIDUNKNOWNKEY000000", secretKey)) {
      expectError(403, "UnrecognizedClientException", unknown::listFunctions);
    }
    AwsCli.withKeys(server.endpoint(), "AKIDUNKNOWNKEY000000", "whatever", workDir.resolve("unknown-home"))
        .lambda("get-account-settings")
        .assertError("UnrecognizedClientException");
  }

  @Test
  void skewedClockAndTamperedBodyAreRefused() {
    // Control: the raw signer produces requests the server accepts.
    SignedHttp.Response good = http.send("GET", LIST, (byte[]) null);
    assertThat(good.status()).as("%s", good).isEqualTo(200);

    for (Duration skew : new Duration[] {Duration.ofMinutes(-20), Duration.ofMinutes(20)}) {
      SignedHttp.Response skewed =
          http.send("GET", LIST, null, null, Clock.offset(Clock.systemUTC(), skew));
      assertThat(skewed.status()).as("skew %s: %s", skew, skewed).isEqualTo(403);
      assertThat(skewed.errorType()).as("skew %s: %s", skew, skewed).isEqualTo("InvalidSignatureException");
    }
    // A small skew is tolerated (AWS allows up to 15 minutes).
    SignedHttp.Response slightly =
        http.send("GET", LIST, null, null, Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-2)));
    assertThat(slightly.status()).as("%s", slightly).isEqualTo(200);

    String name = uniqueName("tamper");
    String honest = "{\"FunctionName\":\"" + name + "\",\"Runtime\":\"nodejs20.x\",\"Role\":\"" + ROLE
        + "\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\""
        + java.util.Base64.getEncoder().encodeToString(Zips.nodeFunction()) + "\"}}";
    String forged = honest.replace("\"nodejs20.x\"", "\"nodejs22.x\"");
    assertThat(forged).hasSameSizeAs(honest);
    SignedHttp.Response tampered =
        http.send(
            "POST",
            "/2015-03-31/functions",
            honest.getBytes(StandardCharsets.UTF_8),
            forged.getBytes(StandardCharsets.UTF_8),
            Clock.systemUTC());
    assertThat(tampered.status()).as("%s", tampered).isEqualTo(403);
    assertThat(tampered.errorType()).as("%s", tampered).isEqualTo("InvalidSignatureException");
    expectError(404, "ResourceNotFoundException", () -> lambda.getFunction(b -> b.functionName(name)));

    // The honest request goes through.
    SignedHttp.Response created = http.send("POST", "/2015-03-31/functions", honest);
    assertThat(created.status()).as("%s", created).isEqualTo(201);
  }

  @Test
  void unsignedRequestIsRefused() {
    SignedHttp.Response r =
        http.sendRaw(HttpRequest.newBuilder(URI.create(server.endpoint() + LIST)).GET().build());
    assertThat(r.status()).as("%s", r).isEqualTo(403);
    assertThat(r.body()).doesNotContain("Functions");
  }

  @Test
  void credentialsSurviveARestart() throws Exception {
    String before = Files.readString(credentialsFile());
    String name = uniqueName("restart");
    createFunction(name, Zips.nodeFunction());
    server.stop();
    server.restart();
    assertThat(Files.readString(credentialsFile())).isEqualTo(before);
    Map<String, String> again = Credentials.read(credentialsFile());
    assertThat(again.get("aws_access_key_id")).isEqualTo(accessKey);
    assertThat(again.get("aws_secret_access_key")).isEqualTo(secretKey);
    connectClients();
    assertThat(lambda.getFunction(b -> b.functionName(name)).configuration().functionName())
        .isEqualTo(name);
    cli.lambda("get-function-configuration", "--function-name", name).assertOk();
    // And a crash does not rotate them either.
    server.crash();
    server.restart();
    assertThat(Credentials.read(credentialsFile())).isEqualTo(again);
    cli.lambda("list-functions").assertOk();
  }
}
