package dev.kiln.e2e;

import static dev.kiln.e2e.support.Sdk.expectError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.KilnTestBase;
import dev.kiln.e2e.support.SignedHttp;
import dev.kiln.e2e.support.Zips;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.CreateFunctionRequest;
import tools.jackson.databind.JsonNode;

/** Lambda's error statuses and codes, through the SDK, the CLI and raw signed HTTP. */
abstract class ErrorsContract extends KilnTestBase {
  private static final String FUNCTIONS = "/2015-03-31/functions";

  private void expectInvalidCreate(String what, Consumer<CreateFunctionRequest.Builder> change) {
    String name = uniqueName("invalid");
    AwsServiceException e =
        expectError(
            400,
            "InvalidParameterValueException",
            () -> createFunction(name, Zips.nodeFunction(), change));
    assertThat(e.awsErrorDetails().errorMessage()).as(what).isNotBlank();
    // Nothing was created. (A changed name is checked by the caller.)
    expectError(404, "ResourceNotFoundException", () -> lambda.getFunction(b -> b.functionName(name)));
  }

  @Test
  void sdkCreateValidation() {
    expectInvalidCreate("MemorySize 64", b -> b.memorySize(64));
    expectInvalidCreate("MemorySize 127", b -> b.memorySize(127));
    expectInvalidCreate("MemorySize 20000", b -> b.memorySize(20000));
    expectInvalidCreate("Timeout 0", b -> b.timeout(0));
    expectInvalidCreate("Timeout 901", b -> b.timeout(901));
    expectInvalidCreate("Runtime cobol1", b -> b.runtime("cobol1"));
    expectInvalidCreate(
        "not a zip",
        b -> b.code(c -> c.zipFile(SdkBytes.fromUtf8String("this is not a zip file at all"))));
    expectInvalidCreate(
        "environment over 4 KB",
        b -> b.environment(e -> e.variables(Map.of("BIG", "x".repeat(5000)))));

    String longName = "n".repeat(65);
    expectError(
        400,
        "InvalidParameterValueException",
        () -> createFunction(longName, Zips.nodeFunction()));
    // 64 characters is the longest name Lambda accepts.
    String longest = uniqueName("n").replace('-', 'x');
    String name64 = longest + "m".repeat(64 - longest.length());
    assertThat(createFunction(name64, Zips.nodeFunction()).functionName()).isEqualTo(name64);
  }

  @Test
  void sdkUpdateValidationAndConflicts() {
    String name = uniqueName("update-invalid");
    byte[] zip = Zips.nodeFunction();
    createActiveFunction(name, zip);
    expectError(
        409, "ResourceConflictException", () -> createFunction(name, Zips.nodeFunction()));
    expectError(
        400,
        "InvalidParameterValueException",
        () -> lambda.updateFunctionConfiguration(b -> b.functionName(name).memorySize(64)));
    expectError(
        400,
        "InvalidParameterValueException",
        () -> lambda.updateFunctionConfiguration(b -> b.functionName(name).timeout(901)));
    expectError(
        400,
        "InvalidParameterValueException",
        () -> lambda.updateFunctionConfiguration(b -> b.functionName(name).runtime("cobol1")));
    expectError(
        400,
        "InvalidParameterValueException",
        () ->
            lambda.updateFunctionCode(
                b -> b.functionName(name).zipFile(SdkBytes.fromUtf8String("PK? not really"))));
    // Nothing changed.
    var config = lambda.getFunctionConfiguration(b -> b.functionName(name));
    assertThat(config.memorySize()).isEqualTo(128);
    assertThat(config.timeout()).isEqualTo(3);
    assertThat(config.codeSha256()).isEqualTo(Zips.sha256Base64(zip));
  }

  @Test
  void sdkNotFound() {
    String missing = uniqueName("missing");
    AwsServiceException notFound =
        expectError(404, "ResourceNotFoundException", () -> lambda.getFunction(b -> b.functionName(missing)));
    assertThat(notFound.awsErrorDetails().errorMessage()).isEqualTo("Function not found: " + arn(missing));
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.getFunctionConfiguration(b -> b.functionName(missing)));
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.updateFunctionConfiguration(b -> b.functionName(missing).timeout(5)));
    expectError(
        404,
        "ResourceNotFoundException",
        () ->
            lambda.updateFunctionCode(
                b -> b.functionName(missing).zipFile(SdkBytes.fromByteArray(Zips.nodeFunction()))));
    expectError(404, "ResourceNotFoundException", () -> lambda.deleteFunction(b -> b.functionName(missing)));
    expectError(404, "ResourceNotFoundException", () -> lambda.listAliases(b -> b.functionName(missing)));

    String name = uniqueName("exists");
    createActiveFunction(name, Zips.nodeFunction());
    AwsServiceException version =
        expectError(
            404,
            "ResourceNotFoundException",
            () -> lambda.getFunction(b -> b.functionName(name).qualifier("3")));
    assertThat(version.awsErrorDetails().errorMessage()).isEqualTo("Function not found: " + arn(name) + ":3");
    expectError(
        404,
        "ResourceNotFoundException",
        () -> lambda.getFunctionConfiguration(b -> b.functionName(name + ":nosuchalias")));
    expectError(
        404, "ResourceNotFoundException", () -> lambda.getAlias(b -> b.functionName(name).name("nosuchalias")));
  }

  @Test
  void cliErrors() {
    String name = uniqueName("cli-err");
    String zip = zipFileArg(Zips.nodeFunction());
    List<String> create =
        List.of(
            "create-function",
            "--function-name", name,
            "--runtime", "nodejs20.x",
            "--role", ROLE,
            "--handler", "index.handler",
            "--zip-file", zip);
    cli.lambda(with(create, "--memory-size", "20000")).assertError("InvalidParameterValueException");
    cli.lambda(with(create, "--timeout", "901")).assertError("InvalidParameterValueException");
    cli.lambda(
            "create-function",
            "--function-name", name,
            "--runtime", "cobol1",
            "--role", ROLE,
            "--handler", "index.handler",
            "--zip-file", zip)
        .assertError("InvalidParameterValueException");
    // (A file that is not a zip never leaves the CLI: it checks --zip-file itself. The SDK test
    // sends one.)
    cli.lambda(
            "create-function",
            "--function-name", "x".repeat(65),
            "--runtime", "nodejs20.x",
            "--role", ROLE,
            "--handler", "index.handler",
            "--zip-file", zip)
        .assertError("InvalidParameterValueException");

    cli.lambda(create.toArray(String[]::new)).assertOk();
    cli.lambda(create.toArray(String[]::new)).assertError("ResourceConflictException");
    cli.lambda("get-function", "--function-name", name, "--qualifier", "7")
        .assertError("ResourceNotFoundException");
    cli.lambda("get-alias", "--function-name", name, "--name", "nope")
        .assertError("ResourceNotFoundException");
    cli.lambda("get-function-configuration", "--function-name", uniqueName("ghost"))
        .assertError("ResourceNotFoundException");
  }

  private static String[] with(List<String> base, String... more) {
    return java.util.stream.Stream.concat(base.stream(), java.util.Arrays.stream(more))
        .toArray(String[]::new);
  }

  private static void assertLambdaErrorShape(SignedHttp.Response r, int status, String... codes) {
    assertThat(r.status()).as("%s", r).isEqualTo(status);
    assertThat(r.errorType()).as("x-amzn-ErrorType of %s", r).isIn((Object[]) codes);
    assertThat(r.body()).as("body of %s", r).doesNotContain("\tat ", "java.lang.", "dev.kiln.");
    JsonNode json = r.json();
    assertThat(json.path("Type").asString()).as("Type in %s", r).isEqualTo("User");
    assertThat(json.path("message").asString()).as("message in %s", r).isNotBlank();
    assertThat(json.path("Message").asString()).as("Message in %s", r).isNotBlank();
  }

  private String createBody(String name, String memorySizeJson) {
    String code = Base64.getEncoder().encodeToString(Zips.nodeFunction());
    return "{\"FunctionName\":\"" + name + "\",\"Runtime\":\"nodejs20.x\",\"Role\":\"" + ROLE
        + "\",\"Handler\":\"index.handler\""
        + (memorySizeJson == null ? "" : ",\"MemorySize\":" + memorySizeJson)
        + ",\"Code\":{\"ZipFile\":\"" + code + "\"}}";
  }

  @Test
  void rawMalformedAndMistypedBodies() {
    // The signer and the raw path work: a well-formed request succeeds.
    String ok = uniqueName("raw-ok");
    SignedHttp.Response created = http.send("POST", FUNCTIONS, createBody(ok, "256"));
    assertThat(created.status()).as("%s", created).isEqualTo(201);
    assertThat(created.json().path("MemorySize").asInt()).isEqualTo(256);

    SignedHttp.Response malformed =
        http.send("POST", FUNCTIONS, "{\"FunctionName\": \"broken\", \"Runtime\": ");
    assertLambdaErrorShape(malformed, 400, "InvalidRequestContentException");

    SignedHttp.Response notJson = http.send("POST", FUNCTIONS, "this is not json");
    assertLambdaErrorShape(notJson, 400, "InvalidRequestContentException");

    String mistypedName = uniqueName("raw-type");
    SignedHttp.Response mistyped =
        http.send("POST", FUNCTIONS, createBody(mistypedName, "\"big\""));
    assertLambdaErrorShape(
        mistyped, 400, "InvalidRequestContentException", "InvalidParameterValueException");

    SignedHttp.Response array = http.send("POST", FUNCTIONS, "[1,2,3]");
    assertLambdaErrorShape(
        array, 400, "InvalidRequestContentException", "InvalidParameterValueException");

    SignedHttp.Response mistypedUpdate =
        http.send("PUT", FUNCTIONS + "/" + ok + "/configuration", "{\"Timeout\": {\"a\": 1}}");
    assertLambdaErrorShape(
        mistypedUpdate, 400, "InvalidRequestContentException", "InvalidParameterValueException");

    expectError(
        404, "ResourceNotFoundException", () -> lambda.getFunction(b -> b.functionName(mistypedName)));
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(ok)).timeout()).isEqualTo(3);
  }

  @Test
  void requestOverTheSizeLimitIs413() {
    // A 72 MB CreateFunction body: over Lambda's 69,905,067-byte request limit.
    StringBuilder body = new StringBuilder(72_000_100);
    body.append("{\"FunctionName\":\"too-big\",\"Runtime\":\"nodejs20.x\",\"Role\":\"")
        .append(ROLE)
        .append("\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"");
    body.repeat('A', 72_000_000);
    body.append("\"}}");
    SignedHttp.Response r = http.send("POST", FUNCTIONS, body.toString());
    assertThat(r.status()).as("%s", r).isEqualTo(413);
    assertThat(r.errorType()).as("%s", r).isEqualTo("RequestTooLargeException");
    expectError(404, "ResourceNotFoundException", () -> lambda.getFunction(b -> b.functionName("too-big")));
  }

  @Test
  void unzippedSizeOverTheLimit() {
    byte[] zip = Zips.zipOfZeros("blob.bin", 262_144_000L + (4 << 20));
    assertThat(zip.length).isLessThan(2 << 20);
    String name = uniqueName("unzipped");
    AwsServiceException e =
        expectError(400, "InvalidParameterValueException", () -> createFunction(name, zip));
    assertThat(e.awsErrorDetails().errorMessage()).contains("262144000");
    expectError(404, "ResourceNotFoundException", () -> lambda.getFunction(b -> b.functionName(name)));
  }
}
