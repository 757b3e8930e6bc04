package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.Sdk;
import dev.kiln.e2e.support.SignedHttp;
import dev.kiln.e2e.support.Zips;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeRequest;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import tools.jackson.databind.JsonNode;

/**
 * The environment modes a function chooses through its KILN_* environment variables, driven
 * through the AWS SDK v2 and the aws CLI: single-use environments per request or per tenant
 * (X-Amz-Tenant-Id), reset above a memory threshold, and transactional retries in fresh
 * environments until the result matches a pattern.
 */
class EnvironmentModesTest extends InvokeTestBase {
  @Override
  protected boolean snapshots() {
    return true;
  }

  /**
   * Shows any state an earlier invocation left: a module-level counter and a file in /tmp. Its
   * status is "ok" only in an environment no invocation has touched yet.
   */
  private static final String STATEFUL =
      """
      import os, time, uuid
      ENV_ID = None  # drawn at the first invocation: init's values are shared by environments forked from a zygote
      count = 0

      def handler(event, context):
          global count, ENV_ID
          ENV_ID = ENV_ID or str(uuid.uuid4())
          count += 1
          marker = '/tmp/marker'
          seen = open(marker).read() if os.path.exists(marker) else None
          with open(marker, 'w') as f:
              f.write(event.get('tenant', '-'))
          if event.get('sleep'):
              time.sleep(event['sleep'])
          return {'count': count, 'seen': seen, 'envId': ENV_ID, 'status': 'ok' if seen is None else 'bad'}
      """;

  private static final String ALWAYS_BAD =
      """
      def handler(event, context):
          return {'status': 'bad'}
      """;

  /** Keeps 40 MiB more with every invocation, touched so that it is really charged. */
  private static final String GROWING =
      """
      import os, uuid
      ENV_ID = None  # drawn at the first invocation: init's values are shared by environments forked from a zygote
      kept = []

      def handler(event, context):
          global ENV_ID
          ENV_ID = ENV_ID or str(uuid.uuid4())
          kept.append(b'\\x01' * (40 * 1024 * 1024))
          return {'count': len(kept), 'envId': ENV_ID}
      """;

  private static final String NOOP =
      """
      def handler(event, context):
          return {'ok': True}
      """;

  private String deployPython(String prefix, String source, Map<String, String> variables) {
    return deploy(prefix, "python3.12", "lambda_function.handler", Functions.python(source),
        b -> b.environment(e -> e.variables(variables)));
  }

  @Test
  void perRequestNoInvocationSeesAnotherOnesState() throws Exception {
    String name = deployPython("per-request", STATEFUL, Map.of("KILN_ENVIRONMENT_REUSE", "per-request"));
    Set<String> environments = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      JsonNode result = invoke(name, "{}").ok();
      assertFresh(result);
      environments.add(result.path("envId").asString());
    }
    for (Invocation call : concurrently(name, "{\"sleep\": 0.3}", 6, null)) {
      JsonNode result = call.ok();
      assertFresh(result);
      environments.add(result.path("envId").asString());
    }
    assertThat(environments).as("one environment per invocation").hasSize(11);
    assertThat(workerStats().path("singleUseRetirements").asLong()).isGreaterThanOrEqualTo(11);
  }

  @Test
  void perTenantEnvironmentsServeOnlyTheirTenant() throws Exception {
    String name = deployPython("per-tenant", STATEFUL, Map.of("KILN_ENVIRONMENT_REUSE", "per-tenant"));
    Map<String, Integer> counts = new java.util.HashMap<>();
    for (int round = 0; round < 3; round++) {
      for (String tenant : List.of("alpha", "beta")) {
        JsonNode result = invokeAs(name, "{\"tenant\":\"" + tenant + "\"}", tenant).ok();
        int count = counts.merge(tenant, 1, Integer::sum);
        assertThat(result.path("count").asInt()).as("%s's counter grows with its own invocations only", tenant)
            .isEqualTo(count);
        if (count == 1) {
          assertThat(result.path("seen").isNull()).as("a new environment for %s: %s", tenant, result).isTrue();
        } else {
          assertThat(result.path("seen").asString()).as("/tmp of %s", tenant).isEqualTo(tenant);
        }
      }
    }
    // Concurrent invokes of one tenant may take more environments, but never another tenant's.
    for (Invocation call : concurrently(name, "{\"tenant\":\"gamma\",\"sleep\":0.3}", 3, "gamma")) {
      JsonNode result = call.ok();
      assertThat(result.path("seen").isNull() || result.path("seen").asString().equals("gamma"))
          .as("gamma sees only its own /tmp: %s", result).isTrue();
    }

    var missing = Sdk.expectError(400, "InvalidParameterValueException", () -> invoke(name, "{}"));
    assertThat(missing.awsErrorDetails().errorMessage()).contains("Tenant id required", "X-Amz-Tenant-Id");
    var queued = Sdk.expectError(400, "InvalidParameterValueException", () -> lambda.invoke(InvokeRequest.builder()
        .functionName(name).invocationType(InvocationType.EVENT).tenantId("alpha")
        .payload(SdkBytes.fromUtf8String("{}")).build()));
    assertThat(queued.awsErrorDetails().errorMessage()).contains("per-tenant", "synchronously");

    // Without the mode the header changes nothing: one environment serves both.
    String shared = deployPython("tenant-ignored", STATEFUL, Map.of());
    invokeAs(shared, "{}", "alpha").ok();
    assertThat(invokeAs(shared, "{}", "beta").ok().path("count").asInt()).isEqualTo(2);
  }

  @Test
  void retriesStopAtTheAttemptLimit() {
    String name = deployPython("retry-limit", ALWAYS_BAD,
        Map.of("KILN_RETRY_MAX_ATTEMPTS", "3", "KILN_RETRY_SUCCESS", "{\"status\":[\"ok\"]}"));
    InvokeResponse response = invokeRaw(name, "{}", null);
    assertThat(attempts(response)).isEqualTo(3);
    assertThat(response.functionError()).as("the last attempt's result, as it was").isNull();
    assertThat(json(response.payload().asUtf8String()).path("status").asString()).isEqualTo("bad");
    String log = Invocation.decode(response.logResult());
    List<String> retryLines = log.lines().filter(l -> l.startsWith("KILN RETRY RequestId: ")).toList();
    assertThat(retryLines).as("log tail: %s", log).hasSize(3);
    assertThat(retryLines.get(0)).endsWith("Attempt: 1 of 3 Reason: first attempt");
    assertThat(retryLines.get(2))
        .endsWith("Attempt: 3 of 3 Reason: attempt 2 returned a result that does not match KILN_RETRY_SUCCESS");
    List<String> starts = log.lines().filter(l -> l.startsWith("START RequestId:")).toList();
    assertThat(starts).as("one START per attempt").hasSize(3);
    String requestId = starts.getFirst().split(" ")[2];
    assertThat(starts).as("all attempts run the same request").allMatch(l -> l.contains(requestId));
    assertThat(retryLines).allMatch(l -> l.startsWith("KILN RETRY RequestId: " + requestId + " "));

    // An asynchronous invoke goes through the same attempts; each is in the function's log.
    lambda.invoke(InvokeRequest.builder().functionName(name).invocationType(InvocationType.EVENT)
        .payload(SdkBytes.fromUtf8String("{\"async\":true}")).build());
    org.awaitility.Awaitility.await("the async invocation's last attempt in the log")
        .atMost(java.time.Duration.ofSeconds(30))
        .until(() -> retryLines(name).stream().filter(l -> l.contains("Attempt: 3 of 3")).count() == 2);
    assertThat(retryLines(name)).as("three attempts of each invocation").hasSize(6);
  }

  private List<String> retryLines(String name) {
    return logEvents(name, 0).stream().map(e -> e.path("message").asString())
        .filter(m -> m.startsWith("KILN RETRY")).toList();
  }

  @Test
  void retriesStopAtTheFirstSuccessAndNeverCarryStateOver() {
    String name = deployPython("retry-fresh", STATEFUL,
        Map.of("KILN_RETRY_MAX_ATTEMPTS", "3", "KILN_RETRY_SUCCESS", "{\"status\":[\"ok\"]}"));
    // A new environment: /tmp/marker is not there yet, so the first attempt succeeds.
    InvokeResponse first = invokeRaw(name, "{}", null);
    assertThat(attempts(first)).isEqualTo(1);
    assertThat(json(first.payload().asUtf8String()).path("status").asString()).isEqualTo("ok");
    // The kept environment has the marker now: that attempt fails, its environment is discarded
    // and the request runs again in a fresh one, which succeeds: two attempts, no more.
    for (int i = 0; i < 2; i++) {
      InvokeResponse again = invokeRaw(name, "{}", null);
      assertThat(attempts(again)).isEqualTo(2);
      JsonNode result = json(again.payload().asUtf8String());
      assertThat(result.path("status").asString()).isEqualTo("ok");
      assertThat(result.path("count").asInt()).as("the retry's environment is fresh").isEqualTo(1);
      assertThat(Invocation.decode(again.logResult())).contains("Attempt: 2 of 3 Reason: attempt 1 returned a "
          + "result that does not match KILN_RETRY_SUCCESS");
    }
    // A function error is a failed attempt even without a pattern.
    String failing = deployPython("retry-error", "def handler(event, context):\n    raise ValueError('no')\n",
        Map.of("KILN_RETRY_MAX_ATTEMPTS", "2"));
    InvokeResponse error = invokeRaw(failing, "{}", null);
    assertThat(error.functionError()).isEqualTo("Unhandled");
    assertThat(attempts(error)).isEqualTo(2);
    assertThat(Invocation.decode(error.logResult())).contains("Attempt: 2 of 2 Reason: attempt 1 failed: ValueError");
  }

  @Test
  void anEnvironmentAboveTheResetThresholdIsReplaced() {
    String name = deploy("reset", "python3.12", "lambda_function.handler", Functions.python(GROWING),
        b -> b.memorySize(256).environment(e -> e.variables(Map.of("KILN_RESET_ABOVE_MB", "100"))));
    long resetsBefore = workerStats().path("resets").asLong();
    Set<String> environments = new HashSet<>();
    int highest = 0;
    for (int i = 0; i < 8; i++) {
      JsonNode result = invoke(name, "{}").ok();
      environments.add(result.path("envId").asString());
      highest = Math.max(highest, result.path("count").asInt());
    }
    // 8 x 40 MiB would exceed the 256 MB limit; reset keeps each environment near 100 MiB instead.
    assertThat(highest).as("memory never grows unbounded").isLessThanOrEqualTo(3);
    assertThat(environments).as("the environment changed after crossing the threshold").hasSizeGreaterThanOrEqualTo(3);
    assertThat(workerStats().path("resets").asLong() - resetsBefore).isGreaterThanOrEqualTo(2);
  }

  @Test
  void invalidModeValuesAreRefusedThroughTheAwsCli() {
    Path zip = Zips.write(workDir, Functions.python(NOOP));
    List<String> bad = List.of(
        "{\"Variables\":{\"KILN_ENVIRONMENT_REUSE\":\"sometimes\"}}",
        "{\"Variables\":{\"KILN_RESET_ABOVE_MB\":\"0\"}}",
        "{\"Variables\":{\"KILN_RESET_ABOVE_MB\":\"lots\"}}",
        "{\"Variables\":{\"KILN_RETRY_MAX_ATTEMPTS\":\"11\"}}",
        "{\"Variables\":{\"KILN_RETRY_MAX_ATTEMPTS\":\"0\"}}",
        "{\"Variables\":{\"KILN_RETRY_MAX_ATTEMPTS\":\"2\",\"KILN_RETRY_SUCCESS\":\"{not json\"}}",
        "{\"Variables\":{\"KILN_RETRY_MAX_ATTEMPTS\":\"2\",\"KILN_RETRY_SUCCESS\":\"{\\\"status\\\":\\\"ok\\\"}\"}}",
        "{\"Variables\":{\"KILN_RETRY_SUCCESS\":\"{\\\"status\\\":[\\\"ok\\\"]}\"}}");
    for (String environment : bad) {
      var result = cli.lambda("create-function", "--function-name", uniqueName("bad-mode"), "--runtime", "python3.12",
          "--handler", "lambda_function.handler", "--role", ROLE, "--zip-file", "fileb://" + zip,
          "--environment", environment);
      result.assertError("InvalidParameterValueException");
      assertThat(result.stderr()).as("%s", environment).contains("KILN_");
    }
    String name = uniqueName("mode-update");
    cli.lambda("create-function", "--function-name", name, "--runtime", "python3.12", "--handler",
        "lambda_function.handler", "--role", ROLE, "--zip-file", "fileb://" + zip).assertOk();
    awaitActive(name);
    cli.lambda("update-function-configuration", "--function-name", name, "--environment",
        "{\"Variables\":{\"KILN_ENVIRONMENT_REUSE\":\"per-invocation\"}}").assertError("InvalidParameterValueException");
    cli.lambda("update-function-configuration", "--function-name", name, "--environment",
        "{\"Variables\":{\"KILN_ENVIRONMENT_REUSE\":\"per-request\",\"KILN_RETRY_MAX_ATTEMPTS\":\"2\"}}").assertOk();
  }

  /** Not an assertion: prints what single-use environments cost per sequential invoke. */
  @Test
  void reportsTheOverheadOfSingleUseEnvironments() {
    String reused = deployPython("overhead-reuse", NOOP, Map.of());
    String single = deployPython("overhead-single", NOOP, Map.of("KILN_ENVIRONMENT_REUSE", "per-request"));
    double[] reuse = timeSequential(reused, 50);
    JsonNode before = workerStats();
    double[] perRequest = timeSequential(single, 50);
    JsonNode after = workerStats();
    System.out.printf("single-use overhead, Python no-op, 50 sequential invokes (ms): reuse p50 %.2f mean %.2f "
        + "max %.2f | per-request p50 %.2f mean %.2f max %.2f (%d cold, %d took a fresh successor)%n", reuse[0],
        reuse[1], reuse[2], perRequest[0], perRequest[1], perRequest[2],
        after.path("coldStarts").asLong() - before.path("coldStarts").asLong(),
        after.path("warmStarts").asLong() - before.path("warmStarts").asLong());
  }

  /** p50, mean and max of {@code count} sequential invokes (after one warm-up), in ms. */
  private double[] timeSequential(String name, int count) {
    invokeRaw(name, "{}", null);
    double[] millis = new double[count];
    for (int i = 0; i < count; i++) {
      long start = System.nanoTime();
      lambda.invoke(InvokeRequest.builder().functionName(name).payload(SdkBytes.fromUtf8String("{}")).build());
      millis[i] = (System.nanoTime() - start) / 1e6;
    }
    double mean = java.util.Arrays.stream(millis).average().orElse(0);
    java.util.Arrays.sort(millis);
    return new double[] {millis[count / 2], mean, millis[count - 1]};
  }

  private static void assertFresh(JsonNode result) {
    assertThat(result.path("count").asInt()).as("counter of a fresh environment: %s", result).isEqualTo(1);
    assertThat(result.path("seen").isNull()).as("no /tmp file left by an earlier invocation: %s", result).isTrue();
  }

  private Invocation invokeAs(String name, String payload, String tenant) {
    return invoke(name, payload, b -> b.tenantId(tenant));
  }

  private InvokeResponse invokeRaw(String name, String payload, String tenant) {
    return lambda.invoke(InvokeRequest.builder().functionName(name).logType(LogType.TAIL).tenantId(tenant)
        .payload(SdkBytes.fromUtf8String(payload)).build());
  }

  private static int attempts(InvokeResponse response) {
    return Integer.parseInt(response.sdkHttpResponse().firstMatchingHeader("X-Kiln-Attempts")
        .orElseThrow(() -> new AssertionError("no X-Kiln-Attempts header")));
  }

  private List<Invocation> concurrently(String name, String payload, int count, String tenant) throws Exception {
    return concurrently(count, () -> tenant == null ? invoke(name, payload) : invokeAs(name, payload, tenant));
  }

}
