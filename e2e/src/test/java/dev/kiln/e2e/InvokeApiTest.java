package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.FunctionZip;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.Sdk;
import dev.kiln.e2e.support.SignedHttp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import tools.jackson.databind.JsonNode;

/**
 * The Invoke API itself: invocation types through the CLI and the SDK, qualifiers (versions,
 * aliases, weighted routing), code updates, concurrency, payload rules and limits, and the
 * states a function must be in.
 */
class InvokeApiTest extends InvokeTestBase {
  /** Returns a fixed greeting, its event and an id of its execution environment; sleeps on demand. */
  private static byte[] greeter(String greeting) {
    return Functions.node(
        "const envId = require('node:crypto').randomUUID();\n"
            + "let count = 0;\n"
            + "exports.handler = async (event, context) => {\n"
            + "  count++;\n"
            + "  console.log('marker ' + (event.marker || 'none'));\n"
            + "  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));\n"
            + "  return { greeting: '"
            + greeting
            + "', envId, count, arn: context.invokedFunctionArn,"
            + " version: context.functionVersion, size: JSON.stringify(event).length };\n"
            + "};\n");
  }

  @Test
  void cli_invokes_request_response_event_and_dry_run() {
    String name = deploy("cli-types", "nodejs22.x", "index.handler", greeter("hi"));

    Invocation sync =
        cliInvoke(
            name,
            "{\"marker\":\"sync-1\"}",
            "--log-type",
            "Tail",
            "--client-context",
            clientContext("{\"custom\":{\"from\":\"cli\"}}"));
    assertThat(sync.status()).isEqualTo(200);
    assertThat(sync.functionError()).isNull();
    assertThat(sync.executedVersion()).isEqualTo("$LATEST");
    assertThat(sync.json().path("greeting").asString()).isEqualTo("hi");
    sync.assertLog(true, "marker sync-1");

    // No --payload: the function gets {}.
    Invocation empty = cliInvoke(name, null);
    assertThat(empty.status()).isEqualTo(200);
    assertThat(empty.json().path("size").asInt()).as("JSON.stringify({}).length").isEqualTo(2);
    assertThat(empty.log()).as("no log tail unless asked").isNull();

    String marker = "event-" + java.util.UUID.randomUUID();
    Invocation event =
        cliInvoke(name, "{\"marker\":\"" + marker + "\"}", "--invocation-type", "Event");
    assertThat(event.status()).isEqualTo(202);
    assertThat(event.payload()).isEmpty();
    // The event really ran: its line reaches the function's log.
    awaitLogEvents(name, "marker " + marker);

    Invocation dryRun = cliInvoke(name, "{\"marker\":\"dry\"}", "--invocation-type", "DryRun");
    assertThat(dryRun.status()).isEqualTo(204);
    assertThat(dryRun.payload()).isEmpty();
    assertThat(logEvents(name, 0))
        .as("a DryRun runs nothing")
        .noneMatch(e -> e.path("message").asString().contains("marker dry"));
  }

  @Test
  void sdk_invocation_types_and_headers() {
    String name = deploy("sdk-types", "nodejs20.x", "index.handler", greeter("sdk"));
    String marker = "sdk-event-" + java.util.UUID.randomUUID();
    InvokeResponse event =
        lambda.invoke(
            b ->
                b.functionName(name)
                    .invocationType(InvocationType.EVENT)
                    .payload(SdkBytes.fromUtf8String("{\"marker\":\"" + marker + "\"}")));
    assertThat(event.statusCode()).isEqualTo(202);
    assertThat(event.functionError()).isNull();
    awaitLogEvents(name, "marker " + marker);

    InvokeResponse dry =
        lambda.invoke(
            b -> b.functionName(name).invocationType(InvocationType.DRY_RUN).payload(SdkBytes.fromUtf8String("{}")));
    assertThat(dry.statusCode()).isEqualTo(204);

    // Raw HTTP: the exact headers of a synchronous invoke.
    SignedHttp.Response raw =
        http.send("POST", "/2015-03-31/functions/" + name + "/invocations", "{\"marker\":\"raw\"}");
    assertThat(raw.status()).isEqualTo(200);
    assertThat(raw.header("X-Amz-Executed-Version")).isEqualTo("$LATEST");
    assertThat(raw.header("X-Amz-Function-Error")).isNull();
    assertThat(raw.header("X-Amz-Log-Result")).isNull();
    assertThat(raw.json().path("greeting").asString()).isEqualTo("sdk");

    // Unknown values of the enum headers are refused before anything runs.
    SignedHttp.Response badType =
        sendInvoke(name, "{}", Map.of("X-Amz-Invocation-Type", "Sometimes"));
    assertThat(badType.status()).as("%s", badType).isEqualTo(400);
    SignedHttp.Response badLog = sendInvoke(name, "{}", Map.of("X-Amz-Log-Type", "Everything"));
    assertThat(badLog.status()).as("%s", badLog).isEqualTo(400);
  }

  @Test
  void qualifiers_select_versions_and_aliases_route_by_weight() {
    String name = deploy("versions", "nodejs22.x", "index.handler", greeter("one"));
    String v1 = lambda.publishVersion(b -> b.functionName(name)).version();
    lambda.updateFunctionCode(b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(greeter("two"))));
    awaitUpdated(name);
    String v2 = lambda.publishVersion(b -> b.functionName(name)).version();
    assertThat(List.of(v1, v2)).containsExactly("1", "2");
    lambda.createAlias(b -> b.functionName(name).name("stable").functionVersion(v1));
    lambda.createAlias(
        b ->
            b.functionName(name)
                .name("canary")
                .functionVersion(v1)
                .routingConfig(r -> r.additionalVersionWeights(Map.of(v2, 0.5))));

    Invocation latest = invoke(name, "{}");
    assertThat(latest.executedVersion()).isEqualTo("$LATEST");
    assertThat(latest.ok().path("greeting").asString()).isEqualTo("two");
    assertThat(latest.ok().path("arn").asString()).isEqualTo(arn(name));

    Invocation explicitLatest = invoke(name, "{}", b -> b.qualifier("$LATEST"));
    assertThat(explicitLatest.executedVersion()).isEqualTo("$LATEST");
    assertThat(explicitLatest.ok().path("arn").asString()).isEqualTo(arn(name) + ":$LATEST");

    Invocation one = invoke(name, "{}", b -> b.qualifier("1"));
    assertThat(one.executedVersion()).isEqualTo("1");
    assertThat(one.ok().path("greeting").asString()).isEqualTo("one");
    assertThat(one.ok().path("version").asString()).isEqualTo("1");
    assertThat(one.ok().path("arn").asString()).isEqualTo(arn(name) + ":1");
    one.assertLog(true);

    // The qualifier in the name (name:2) and in a full ARN.
    Invocation two = invoke(name + ":2", "{}");
    assertThat(two.executedVersion()).isEqualTo("2");
    assertThat(two.ok().path("greeting").asString()).isEqualTo("two");
    assertThat(invoke(arn(name) + ":2", "{}").executedVersion()).isEqualTo("2");

    Invocation stable = invoke(name, "{}", b -> b.qualifier("stable"));
    assertThat(stable.executedVersion()).isEqualTo("1");
    assertThat(stable.ok().path("arn").asString()).isEqualTo(arn(name) + ":stable");
    assertThat(stable.ok().path("version").asString()).isEqualTo("1");

    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      Invocation canary = invoke(name, "{}", b -> b.qualifier("canary").logType(LogType.NONE));
      JsonNode body = canary.ok();
      String expected = canary.executedVersion().equals("1") ? "one" : "two";
      assertThat(body.path("greeting").asString())
          .as("the code that ran matches X-Amz-Executed-Version %s", canary.executedVersion())
          .isEqualTo(expected);
      assertThat(body.path("version").asString()).isEqualTo(canary.executedVersion());
      seen.merge(canary.executedVersion(), 1, Integer::sum);
    }
    // 50/50 over 40 calls: both versions (P(miss one) = 2^-39).
    assertThat(seen.keySet()).as("versions served by the weighted alias: %s", seen).containsExactlyInAnyOrder("1", "2");

    // The CLI's --qualifier.
    Invocation cli = cliInvoke(name, "{}", "--qualifier", "stable");
    assertThat(cli.executedVersion()).isEqualTo("1");

    Sdk.expectError(404, "ResourceNotFoundException", () -> lambda.invoke(b -> b.functionName(name).qualifier("9")));
    Sdk.expectError(404, "ResourceNotFoundException", () -> lambda.invoke(b -> b.functionName(name).qualifier("nope")));
    Sdk.expectError(404, "ResourceNotFoundException", () -> lambda.invoke(b -> b.functionName(uniqueName("missing"))));
  }

  @Test
  void update_code_then_invoke_runs_the_new_code() {
    String name = deploy("update", "python3.12", "lambda_function.lambda_handler", pythonReturning("old"));
    assertThat(invoke(name, "{}").ok().path("code").asString()).isEqualTo("old");
    assertThat(invoke(name, "{}").ok().path("code").asString()).isEqualTo("old");

    lambda.updateFunctionCode(b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(pythonReturning("new"))));
    awaitUpdated(name);
    for (int i = 0; i < 3; i++) {
      assertThat(invoke(name, "{}").ok().path("code").asString()).as("invoke %d after the update", i).isEqualTo("new");
    }

    // A configuration change reaches new invocations too.
    lambda.updateFunctionConfiguration(
        b -> b.functionName(name).environment(e -> e.variables(Map.of("CODE_SUFFIX", "-configured"))));
    awaitUpdated(name);
    assertThat(invoke(name, "{}").ok().path("code").asString()).isEqualTo("new-configured");

    // The CLI path: update-function-code, wait function-updated-v2, invoke.
    cli.lambda("update-function-code", "--function-name", name, "--zip-file", zipFileArg(pythonReturning("cli")))
        .assertOk();
    cli.lambda("wait", "function-updated-v2", "--function-name", name).assertOk();
    assertThat(cliInvoke(name, "{}").json().path("code").asString()).isEqualTo("cli-configured");
  }

  private static byte[] pythonReturning(String code) {
    return Functions.python(
        "import os\n\ndef lambda_handler(event, context):\n"
            + "    return {'code': '"
            + code
            + "' + os.environ.get('CODE_SUFFIX', '')}\n");
  }

  @Test
  void concurrent_invokes_get_separate_environments_which_are_then_reused() throws Exception {
    String name = deploy("concurrent", "nodejs22.x", "index.handler", greeter("c"));
    int parallel = 4;
    List<JsonNode> results = new ArrayList<>();
    long started = System.nanoTime();
    try (ExecutorService pool = Executors.newFixedThreadPool(parallel)) {
      List<Future<Invocation>> futures = new ArrayList<>();
      for (int i = 0; i < parallel; i++) {
        Callable<Invocation> call = () -> invoke(name, "{\"sleepMs\":1500}");
        futures.add(pool.submit(call));
      }
      for (Future<Invocation> f : futures) {
        results.add(f.get().ok());
      }
    }
    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
    Set<String> envs = new HashSet<>();
    results.forEach(r -> envs.add(r.path("envId").asString()));
    assertThat(envs).as("one environment per concurrent invocation: %s", results).hasSize(parallel);
    assertThat(results).allMatch(r -> r.path("count").asInt() == 1);
    assertThat(elapsedMs).as("the four ran at the same time").isLessThan(4 * 1500);

    // Afterwards they are warm: sequential invokes reuse them (no new environment).
    for (int i = 0; i < 6; i++) {
      Invocation again = invoke(name, "{}");
      assertThat(envs).contains(again.ok().path("envId").asString());
      assertThat(again.hasInitDuration()).isFalse();
    }
  }

  @Test
  void payloads_must_be_json_within_the_size_limits() {
    String name = deploy("payloads", "nodejs22.x", "index.handler", greeter("p"));

    Sdk.expectError(
        400,
        "InvalidRequestContentException",
        () -> lambda.invoke(b -> b.functionName(name).payload(SdkBytes.fromUtf8String("not json {"))));
    Sdk.expectError(
        400,
        "InvalidRequestContentException",
        () ->
            lambda.invoke(
                b ->
                    b.functionName(name)
                        .invocationType(InvocationType.EVENT)
                        .payload(SdkBytes.fromUtf8String("{\"unterminated\":"))));
    cli.lambda("invoke", "--function-name", name, "--payload", "nope", workDir.resolve("bad.json").toString())
        .assertError("InvalidRequestContentException");

    // Any JSON value is an event, not only objects.
    assertThat(invoke(name, "[1,2,3]").ok().path("size").asInt()).isEqualTo(7);
    assertThat(invoke(name, "\"text\"").ok().path("size").asInt()).isEqualTo(6);

    // Just under 6 MB synchronously: accepted and delivered whole.
    String big = jsonStringOfSize(6 * 1024 * 1024 - 100);
    Invocation large = invoke(name, big, b -> b.logType(LogType.NONE));
    assertThat(large.ok().path("size").asInt()).isEqualTo(big.length());

    // Over 6 MB synchronously, over 1 MB (256 KB on Lambda today, 1 MB here as documented) as an Event: 413.
    Sdk.expectError(
        413,
        "RequestTooLargeException",
        () ->
            lambda.invoke(
                b -> b.functionName(name).payload(SdkBytes.fromUtf8String(jsonStringOfSize(6 * 1024 * 1024 + 1)))));
    Sdk.expectError(
        413,
        "RequestTooLargeException",
        () ->
            lambda.invoke(
                b ->
                    b.functionName(name)
                        .invocationType(InvocationType.EVENT)
                        .payload(SdkBytes.fromUtf8String(jsonStringOfSize(1024 * 1024 + 1)))));
    InvokeResponse eventUnderLimit =
        lambda.invoke(
            b ->
                b.functionName(name)
                    .invocationType(InvocationType.EVENT)
                    .payload(SdkBytes.fromUtf8String(jsonStringOfSize(1024 * 1024 - 10))));
    assertThat(eventUnderLimit.statusCode()).isEqualTo(202);
  }

  /** A JSON string literal of exactly {@code bytes} bytes (quotes included). */
  private static String jsonStringOfSize(int bytes) {
    return "\"" + "x".repeat(bytes - 2) + "\"";
  }

  @Test
  void a_pending_function_cannot_be_invoked_until_it_is_active() {
    // Many files make the package take a moment to prepare, so the invoke below meets it Pending.
    FunctionZip zip = FunctionZip.create().file("index.js", "exports.handler = async () => 'ready';\n");
    byte[] filler = new byte[512];
    new java.util.Random(1).nextBytes(filler);
    for (int i = 0; i < 6000; i++) {
      zip.file("filler/f" + i + ".bin", filler);
    }
    byte[] code = zip.bytes();
    String name = uniqueName("pending");
    assertThat(createFunction(name, code, b -> b.runtime("nodejs22.x")).stateAsString()).isEqualTo("Pending");
    var error =
        Sdk.expectOneOf(() -> lambda.invoke(b -> b.functionName(name)), 409, "ResourceConflictException");
    assertThat(error.awsErrorDetails().errorMessage()).containsIgnoringCase("pending");

    // aws lambda wait function-active-v2, then the invoke works.
    cli.lambda("wait", "function-active-v2", "--function-name", name).assertOk();
    assertThat(invoke(name, "{}").ok().asString()).isEqualTo("ready");
  }

  @Test
  void a_runtime_kiln_cannot_run_is_refused_with_invalid_runtime() {
    String name = uniqueName("ruby");
    createFunction(
        name,
        Functions.python("def lambda_handler(e, c):\n    return 1\n"),
        b -> b.runtime("ruby3.3").handler("lambda_function.lambda_handler"));
    awaitActive(name);
    Sdk.expectError(502, "InvalidRuntimeException", () -> lambda.invoke(b -> b.functionName(name)));
    cli.lambda("invoke", "--function-name", name, workDir.resolve("ruby.json").toString())
        .assertError("InvalidRuntimeException");
  }

  private SignedHttp.Response sendInvoke(String name, String body, Map<String, String> headers) {
    return http.send("POST", "/2015-03-31/functions/" + name + "/invocations", body, headers);
  }
}
