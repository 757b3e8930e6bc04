package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.JavaFunctions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import tools.jackson.databind.JsonNode;

/**
 * Start-up snapshots through the AWS SDK, on Python's zygote: environments forked from one initialized runtime
 * return correct results, share the init but nothing of each other's requests, get fresh per-request state and
 * run the SnapStart hooks; a code update retires the snapshot; {@code KILN_SNAPSHOT=off} boots every environment.
 */
class SnapshotsTest extends InvokeTestBase {
  @Override
  protected boolean snapshots() {
    return true;
  }


  /** Init is slow and leaves a table; the hooks and the handler report what each environment saw. */
  private static String function(String codeVersion) {
    return """
        import os, random, time, uuid
        from snapshot_restore_py import register_before_snapshot, register_after_restore
        INIT_ID = str(uuid.uuid4())
        SQUARES = {i: i * i for i in range(200000)}
        state = {"before": 0, "after": 0, "count": 0}

        @register_before_snapshot
        def before():
            state["before"] += 1

        @register_after_restore
        def after():
            state["after"] += 1
            state["restored_id"] = str(uuid.uuid4())

        def handler(event, context):
            state["count"] += 1
            mine = "/tmp/" + context.aws_request_id
            open(mine, "w").write("x")
            time.sleep(event.get("sleep", 0))
            if event.get("hog"):
                hog = bytearray(event["hog"] * 1024 * 1024)
            return {"code": "%s", "init": INIT_ID, "restoredId": state.get("restored_id"),
                    "before": state["before"], "after": state["after"], "count": state["count"],
                    "square": SQUARES[event.get("n", 7)], "random": random.random(),
                    "tmp": sorted(os.listdir("/tmp")), "pid": os.getpid(),
                    "stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
                    "initType": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
        """.formatted(codeVersion);
  }

  private String deploy(String prefix, String codeVersion, Map<String, String> variables) {
    return deploy(prefix, "python3.12", "lambda_function.handler", Functions.python(function(codeVersion)),
        b -> b.memorySize(128).environment(e -> e.variables(variables)));
  }

  /** Three overlapping invokes, so each needs an environment of its own. */
  private List<Invocation> threeAtOnce(String name) throws Exception {
    return concurrently(3, () -> invoke(name, "{\"sleep\": 0.6, \"n\": 12}"));
  }

  /** Waits until the function's zygote is up (it starts when the function is activated). */
  private void awaitZygote(int atLeast) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (workerStats().path("zygotes").asInt() < atLeast && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(workerStats().path("zygotes").asInt()).as("zygotes running").isGreaterThanOrEqualTo(atLeast);
  }

  @Test
  void restoredEnvironmentsShareTheInitAndNothingElse() throws Exception {
    int zygotesBefore = workerStats().path("zygotes").asInt();
    String name = deploy("snap-py", "a", Map.of());
    awaitZygote(zygotesBefore + 1);
    long restoresBefore = workerStats().path("restores").asLong();

    List<Invocation> calls = threeAtOnce(name);
    Set<String> restoredIds = new HashSet<>();
    Set<String> streams = new HashSet<>();
    Set<Double> randoms = new HashSet<>();
    String init = null;
    for (Invocation call : calls) {
      JsonNode r = call.ok();
      assertThat(call.log()).as("REPORT of a restored environment").contains("Restore Duration:")
          .doesNotContain("Init Duration:");
      assertThat(r.path("square").asInt()).as("state made by init").isEqualTo(144);
      assertThat(r.path("count").asInt()).as("a fresh environment's first request").isEqualTo(1);
      assertThat(r.path("before").asInt()).as("before-snapshot hook ran once, before the snapshot").isEqualTo(1);
      assertThat(r.path("after").asInt()).as("after-restore hook ran once in this environment").isEqualTo(1);
      assertThat(r.path("initType").asString()).isEqualTo("snap-start");
      assertThat(r.path("tmp")).as("/tmp holds only this request's file").hasSize(1);
      assertThat(r.path("tmp").get(0).asString()).isEqualTo(call.requestId());
      init = init == null ? r.path("init").asString() : init;
      assertThat(r.path("init").asString()).as("init ran once, in the zygote").isEqualTo(init);
      restoredIds.add(r.path("restoredId").asString());
      streams.add(r.path("stream").asString());
      randoms.add(r.path("random").asDouble());
    }
    assertThat(restoredIds).as("after-restore state per environment").hasSize(3);
    assertThat(streams).as("a log stream per environment").hasSize(3);
    assertThat(randoms).as("random seeded anew in each environment").hasSize(3);
    assertThat(workerStats().path("restores").asLong() - restoresBefore).isEqualTo(3);

    // A restored environment is an ordinary warm environment afterwards.
    Invocation again = invoke(name, "{\"n\": 3}");
    assertThat(again.ok().path("count").asInt()).isEqualTo(2);
    assertThat(again.ok().path("square").asInt()).isEqualTo(9);
    assertThat(again.hasInitDuration()).isFalse();

    // Its memory limit is its own: a handler going past 128 MB dies alone, and the next environment is fine.
    Invocation hog = invoke(name, "{\"hog\": 300}");
    assertThat(hog.functionError()).as("out of memory: %s", hog.payload()).isNotNull();
    List<Invocation> after = threeAtOnce(name);
    for (Invocation call : after) {
      assertThat(call.ok().path("init").asString()).isEqualTo(init);
    }
  }

  @Test
  void aCodeUpdateRetiresTheSnapshot() throws Exception {
    int zygotesBefore = workerStats().path("zygotes").asInt();
    String name = deploy("snap-update", "a", Map.of());
    awaitZygote(zygotesBefore + 1);
    String oldInit = threeAtOnce(name).getFirst().ok().path("init").asString();

    lambda.updateFunctionCode(b -> b.functionName(name)
        .zipFile(SdkBytes.fromByteArray(Functions.python(function("b")))));
    awaitUpdated(name);

    // Until the new zygote is up, environments boot; once it is, they are restored from the new code. Each
    // round needs more environments than are warm (the update itself readied three replacements).
    List<JsonNode> results = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    boolean restoredNew = false;
    for (int round = 1; !restoredNew && System.nanoTime() < deadline; round++) {
      for (Invocation call : concurrently(3 + 3 * round, () -> invoke(name, "{\"sleep\": 0.6}"))) {
        results.add(call.ok());
        restoredNew |= call.log().contains("Restore Duration:");
      }
    }
    assertThat(restoredNew).as("a restore from the updated code").isTrue();
    for (JsonNode r : results) {
      assertThat(r.path("code").asString()).as("no environment of the old code after the update").isEqualTo("b");
      assertThat(r.path("init").asString()).isNotEqualTo(oldInit);
    }
    long settle = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (workerStats().path("zygotes").asInt() > zygotesBefore + 1 && System.nanoTime() < settle) {
      Thread.sleep(50);
    }
    assertThat(workerStats().path("zygotes").asInt()).as("the old zygote is gone").isEqualTo(zygotesBefore + 1);
  }

  /** Node: a V8 startup snapshot of the initialized handler, made in the background after creation. */
  @Test
  void nodeEnvironmentsStartFromAStartupSnapshot() throws Exception {
    String name = deploy("snap-node", "nodejs22.x", "index.handler", Functions.node("""
        const crypto = require('node:crypto');
        const initId = crypto.randomUUID();
        const primes = [];
        for (let n = 2; primes.length < 5000; n++) { if (primes.every(p => n % p)) primes.push(n); }
        let count = 0;
        exports.handler = async (event) => (await new Promise((r) => setTimeout(r, 20)), { initId, count: ++count, prime: primes[event.i || 0],
          uuid: crypto.randomUUID(), stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME });
        """), b -> b.memorySize(256));
    List<JsonNode> restored = new ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    for (int round = 1; restored.size() < 2 && System.nanoTime() < deadline; round++) {
      for (Invocation call : concurrently(2 + round, () -> invoke(name, "{\"i\": 4999}"))) {
        JsonNode r = call.ok();
        assertThat(r.path("prime").asInt()).as("the 5000th prime, made at init").isEqualTo(48611);
        if (call.log().contains("Restore Duration:") && r.path("count").asInt() == 1) {
          restored.add(r);
        }
      }
    }
    assertThat(restored).as("environments restored from the snapshot").hasSizeGreaterThanOrEqualTo(2);
    assertThat(restored.get(0).path("initId").asString()).as("init ran once, at training")
        .isEqualTo(restored.get(1).path("initId").asString());
    assertThat(restored.get(0).path("uuid").asString()).as("fresh randomness after restore")
        .isNotEqualTo(restored.get(1).path("uuid").asString());
    assertThat(restored.get(0).path("stream").asString()).isNotEqualTo(restored.get(1).path("stream").asString());
  }

  /** Java: a JDK AOT cache of the function's classes; init still runs in every environment. */
  @Test
  void javaEnvironmentsStartWithTheFunctionsAotCache() throws Exception {
    String name = deploy("snap-java", "java21", "echo.Handler::handleRequest",
        JavaFunctions.zipWithLib(Functions.javaEchoClasses(21)), b -> b.memorySize(512));
    Invocation restored = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    for (int round = 1; restored == null && System.nanoTime() < deadline; round++) {
      for (Invocation call : concurrently(1 + round, () -> invoke(name, "{\"k\": \"v\"}"))) {
        assertThat(call.ok().path("event").path("k").asString()).isEqualTo("v");
        if (call.log().contains("Restore Duration:")) {
          restored = call;
        }
      }
      Thread.sleep(200);
    }
    assertThat(restored).as("an environment started with the function's AOT cache").isNotNull();
    assertThat(restored.ok().path("count").asInt()).isEqualTo(1);
    assertThat(restored.log()).as("a class cache holds no state: init ran here").contains("init-line java");
  }

  @Test
  void optingOutBootsEveryEnvironment() throws Exception {
    String name = deploy("snap-off", "a", Map.of("KILN_SNAPSHOT", "off"));
    Thread.sleep(500); // the moment a zygote would have been started
    Set<String> inits = new HashSet<>();
    for (Invocation call : threeAtOnce(name)) {
      assertThat(call.log()).contains("Init Duration:").doesNotContain("Restore Duration:");
      assertThat(call.ok().path("initType").asString()).isEqualTo("on-demand");
      inits.add(call.ok().path("init").asString());
    }
    assertThat(inits).as("each environment ran init itself").hasSize(3);

    assertThatThrownBy(() -> deploy("snap-bad", "a", Map.of("KILN_SNAPSHOT", "sometimes")))
        .isInstanceOf(InvalidParameterValueException.class)
        .hasMessageContaining("KILN_SNAPSHOT");
  }
}
