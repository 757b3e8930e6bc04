package dev.kiln.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.kiln.core.CodeRef;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.KilnException;
import dev.kiln.core.LastUpdateStatus;
import dev.kiln.runtimes.RuntimeCatalog;
import dev.kiln.sandbox.SandboxBackends;
import dev.kiln.warming.FixedKeepAlive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The environment modes with real sandboxes and the Node runtime: single-use environments, tenant
 * isolation, reset above a memory threshold and transactional attempts in fresh environments.
 */
class WorkerModesTest {
  /** Counts invocations per environment, remembers the environment's identity, grows memory on request. */
  private static final String FUNCTION = """
      const envId = require('node:crypto').randomUUID();
      let n = 0;
      const kept = [];
      exports.handler = async (e) => {
        n++;
        if (e.grow) kept.push(Buffer.alloc(e.grow * 1024 * 1024, 1));
        if (e.fail) throw new Error('asked to fail');
        return {n, envId, ok: !!e.ok};
      };
      """;

  private Path dir;
  private Worker worker;
  private final Map<String, Path> zips = new ConcurrentHashMap<>();
  private final List<String> logged = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    dir = Files.createTempDirectory(Path.of("/tmp"), "km");
    var runtimes = RuntimeCatalog.install(dir.resolve("rt"));
    var backend = SandboxBackends.detect(dir.resolve("sb"), dir.resolve("rt"));
    var cache = new CodeCache(dir.resolve("cc"), zips::get);
    // Spare environments may always be started, so retired ones get their successors.
    worker = new Worker(new WorkerSettings("us-east-1", Duration.ofMinutes(5), Duration.ofSeconds(30), 1, 2048),
        backend, runtimes, cache, (version, requestId, lines) -> logged.addAll(lines), ScalingGate.OPEN,
        new FixedKeepAlive(Duration.ofMinutes(5)), version -> true);
  }

  @AfterEach
  void stop() {
    worker.close();
    CodeCache.deleteTree(dir);
  }

  @Test
  void perRequestEnvironmentsServeOneInvocationAndAFreshSuccessorWaits() throws Exception {
    var v = version(Map.of("KILN_ENVIRONMENT_REUSE", "per-request"));
    var seen = new java.util.HashSet<String>();
    for (int i = 0; i < 4; i++) {
      var result = invoke(v, "{}", null);
      assertThat(text(result)).contains("\"n\":1");
      seen.add(envId(result));
      awaitIdle(1);
    }
    assertThat(seen).as("every invocation had its own environment").hasSize(4);
    assertThat(worker.stats().singleUseRetirements()).isEqualTo(4);
    assertThat(worker.stats().coldStarts()).as("after the first, a fresh successor was ready").isEqualTo(1);
  }

  @Test
  void perTenantEnvironmentsServeOnlyTheirTenant() throws Exception {
    var v = version(Map.of("KILN_ENVIRONMENT_REUSE", "per-tenant"));
    assertThat(text(invoke(v, "{}", "a"))).contains("\"n\":1");
    assertThat(text(invoke(v, "{}", "b"))).contains("\"n\":1");
    assertThat(text(invoke(v, "{}", "a"))).contains("\"n\":2");
    assertThat(text(invoke(v, "{}", "b"))).contains("\"n\":2");
    assertThat(text(invoke(v, "{}", "c"))).contains("\"n\":1");
    assertThatThrownBy(() -> invoke(v, "{}", null))
        .isInstanceOfSatisfying(KilnException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.InvalidParameterValueException))
        .hasMessageContaining("Tenant id required");
  }

  @Test
  void aTenantHeaderMeansNothingToAReusedFunction() throws Exception {
    var v = version(Map.of());
    assertThat(text(invoke(v, "{}", "a"))).contains("\"n\":1");
    assertThat(text(invoke(v, "{}", "b"))).contains("\"n\":2");
  }

  @Test
  void anEnvironmentAboveTheResetThresholdIsReplacedByAFreshOne() throws Exception {
    var v = version(Map.of("KILN_RESET_ABOVE_MB", "100"));
    String first = envId(invoke(v, "{\"grow\":40}", null));
    var second = invoke(v, "{\"grow\":40}", null);
    assertThat(text(second)).contains("\"n\":2");
    assertThat(envId(second)).isEqualTo(first);
    // Node itself takes ~40 MiB, so 80 more cross 100 MiB at the latest with the third.
    var third = invoke(v, "{\"grow\":40}", null);
    assertThat(worker.stats().resets()).isGreaterThanOrEqualTo(1);
    awaitIdle(1);
    var after = invoke(v, "{}", null);
    assertThat(text(after)).as("the successor holds only what init produced").contains("\"n\":1");
    assertThat(envId(after)).isNotEqualTo(envId(third)).isNotEqualTo(first);
  }

  @Test
  void failedAttemptsRunAgainInFreshEnvironmentsUpToTheLimit() throws Exception {
    var v = version(Map.of("KILN_RETRY_MAX_ATTEMPTS", "3"));
    invoke(v, "{}", null); // a used environment that a retry must not take
    var request = request(v, "{\"fail\":true}", null, false);
    var failing = worker.invoke(request);
    assertThat(failing.failed()).isTrue();
    assertThat(failing.attempts()).isEqualTo(3);
    assertThat(worker.stats().retries()).isEqualTo(2);
    String mark = "KILN RETRY RequestId: " + request.requestId();
    await().atMost(Duration.ofSeconds(10)).until(() -> logged.stream().filter(l -> l.startsWith(mark)).count() == 3);
    assertThat(logged.stream().filter(l -> l.startsWith(mark)))
        .anyMatch(l -> l.endsWith("Attempt: 1 of 3 Reason: first attempt"))
        .anyMatch(l -> l.contains("Attempt: 3 of 3 Reason: attempt 2 failed: Error"));
    assertThat(worker.stats().inState(EnvironmentState.IDLE)).as("failed attempts' environments retired").isZero();

    var succeeding = invoke(v, "{}", null);
    assertThat(succeeding.attempts()).isEqualTo(1);
    assertThat(text(succeeding)).as("a fresh environment: the failed ones were retired").contains("\"n\":1");
  }

  @Test
  void aResultCheckDecidesSuccessAndEachRetryIsFresh() throws Exception {
    var v = version(Map.of("KILN_RETRY_MAX_ATTEMPTS", "4", "KILN_RETRY_SUCCESS", "{\"ok\":[true]}"));
    ResultCheck ok = result -> new String(result, StandardCharsets.UTF_8).contains("\"ok\":true");
    var rejected = worker.invoke(request(v, "{}", null, true), ok);
    assertThat(rejected.attempts()).isEqualTo(4);
    assertThat(rejected.failed()).as("a rejected result is still returned as it is").isFalse();
    assertThat(text(rejected)).as("the last attempt ran in a fresh environment").contains("\"n\":1");
    assertThat(rejected.logTail()).contains("Attempt: 4 of 4 Reason: attempt 3 returned a result that does not "
        + "match KILN_RETRY_SUCCESS");
    var accepted = worker.invoke(request(v, "{\"ok\":true}", null, false), ok);
    assertThat(accepted.attempts()).isEqualTo(1);
    assertThatThrownBy(() -> worker.invoke(request(v, "{}", null, false))).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theIdlePoolNeverHandsOneTenantsEnvironmentToAnother() {
    var pool = new IdlePool(new FunctionWarming(new FixedKeepAlive(Duration.ofMinutes(1)).newHistory()));
    var ofA = bare();
    ofA.tenant = "a";
    var unbound = bare();
    pool.offerFirst(ofA);
    pool.offerFirst(unbound);
    assertThat(pool.size()).isEqualTo(2);
    assertThat(pool.poll("b")).isNull();
    assertThat(pool.poll(null)).isSameAs(unbound);
    assertThat(pool.poll(null)).isNull();
    assertThat(pool.poll("a")).isSameAs(ofA);
    pool.offerLast(ofA);
    assertThat(pool.remove(ofA)).isTrue();
    assertThat(pool.remove(ofA)).isFalse();
    pool.pruneEmptyLanes();
    assertThat(pool.size()).isZero();
  }

  @Test
  void retryDecisions() {
    var ok = new InvocationResult("{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8), null, null, "1", 1, null);
    var error = new InvocationResult("{\"errorType\":\"Runtime.ExitError\",\"errorMessage\":\"x\"}"
        .getBytes(StandardCharsets.UTF_8), "Unhandled", null, "1", 1, null);
    assertThat(RetryDecision.succeeded(ok, null)).isTrue();
    assertThat(RetryDecision.succeeded(ok, r -> false)).isFalse();
    assertThat(RetryDecision.succeeded(error, r -> true)).as("an error never succeeds").isFalse();
    assertThat(RetryDecision.failure(error)).isEqualTo("failed: Runtime.ExitError");
    assertThat(RetryDecision.failure(ok)).contains("does not match KILN_RETRY_SUCCESS");
  }

  /** An environment with no sandbox, only for pool bookkeeping. */
  private static Environment bare() {
    var key = new FunctionKey("000000000000", "f", "1", "x");
    var version = new FunctionVersion("000000000000", "f", "1", "nodejs22.x", "index.handler",
        "arn:aws:iam::000000000000:role/r", "", 128, 3, 512, Map.of(), List.of(), new CodeRef("0".repeat(64), 0),
        Instant.now(), UUID.randomUUID().toString(), FunctionState.Active, LastUpdateStatus.Successful);
    return new Environment(key, version, null, new WorkerStats(), (v, r, l) -> {}, () -> {}, null, false);
  }

  private void awaitIdle(int count) {
    await().atMost(Duration.ofSeconds(20)).until(() -> worker.stats().inState(EnvironmentState.IDLE) >= count);
  }

  private InvocationResult invoke(FunctionVersion version, String payload, String tenant) throws InterruptedException {
    return worker.invoke(request(version, payload, tenant, false));
  }

  private static InvocationRequest request(FunctionVersion version, String payload, String tenant, boolean tail) {
    return new InvocationRequest(UUID.randomUUID().toString(), version,
        "arn:aws:lambda:us-east-1:000000000000:function:f", payload.getBytes(StandardCharsets.UTF_8), null, tail,
        null, tenant);
  }

  private FunctionVersion version(Map<String, String> environment) throws IOException {
    var code = CodeZips.store(dir, zips, "index.js", FUNCTION);
    return new FunctionVersion("000000000000", "f", FunctionVersion.LATEST, "nodejs22.x", "index.handler",
        "arn:aws:iam::000000000000:role/r", "", 256, 5, 512, environment, List.of(), code,
        Instant.now(), UUID.randomUUID().toString(), FunctionState.Active, LastUpdateStatus.Successful);
  }

  private static String text(InvocationResult result) {
    return new String(result.payload(), StandardCharsets.UTF_8);
  }

  private static String envId(InvocationResult result) {
    var matcher = java.util.regex.Pattern.compile("\"envId\":\"([^\"]+)\"").matcher(text(result));
    assertThat(matcher.find()).as("envId in %s", text(result)).isTrue();
    return matcher.group(1);
  }

}
