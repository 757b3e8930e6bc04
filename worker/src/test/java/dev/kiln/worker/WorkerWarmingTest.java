package dev.kiln.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.LastUpdateStatus;
import dev.kiln.runtimes.RuntimeCatalog;
import dev.kiln.sandbox.SandboxBackends;
import dev.kiln.warming.HybridHistogramPolicy;
import dev.kiln.warming.WarmPlan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The worker applying a warming policy with real sandboxes and the Node runtime: environments
 * readied by a hint or by the policy's pre-warm serve the next invocations warm, and unused ones lapse.
 */
class WorkerWarmingTest {
  private static final String HANDLER = "exports.handler = async (e) => { "
      + "if (e.sleep) await new Promise(r => setTimeout(r, e.sleep)); return 'ok'; };";
  /**
   * Seconds-wide bins, so a few invocations a couple of seconds apart teach the policy a window;
   * the 90% margin makes that window wide enough to catch without racing it.
   */
  private static final HybridHistogramPolicy.Settings QUICK = new HybridHistogramPolicy.Settings(1_000, 10, 5, 99,
      0.9, 2, 0.5, 0.5, 60_000, 100, 1_000, 1_000, 9, 4, 60_000);

  private Path dir;
  private Worker worker;
  private final Map<String, Path> zips = new ConcurrentHashMap<>();

  @BeforeEach
  void start() throws IOException {
    dir = Files.createTempDirectory(Path.of("/tmp"), "kww");
    var runtimes = RuntimeCatalog.install(dir.resolve("rt"));
    var backend = SandboxBackends.detect(dir.resolve("sb"), dir.resolve("rt"));
    var cache = new CodeCache(dir.resolve("cc"), zips::get);
    // A 512 MB budget: four 128 MB environments.
    worker = new Worker(new WorkerSettings("us-east-1", Duration.ofMinutes(5), Duration.ofSeconds(30), 1, 512),
        backend, runtimes, cache, (version, requestId, lines) -> {}, ScalingGate.OPEN, new HybridHistogramPolicy(QUICK),
        version -> true);
  }

  @AfterEach
  void stop() {
    worker.close();
    CodeCache.deleteTree(dir);
  }

  @Test
  void aHintReadiesEnvironmentsSoTheNextInvocationsAreWarm() throws Exception {
    var version = version();
    var outcome = worker.hint(version, 3, Duration.ofSeconds(20), Duration.ofMinutes(2));
    assertThat(outcome).isEqualTo(new Worker.HintOutcome(3, 0, 3, 3, 0, null));
    assertThat(worker.stats().inState(EnvironmentState.IDLE)).isEqualTo(3);

    var results = concurrently(version, 3);
    assertThat(results).allSatisfy(r -> assertThat(r.initDurationMs()).as("Init Duration").isNull());
    assertThat(worker.stats().coldStarts()).isZero();
    assertThat(worker.stats().warmStarts()).isEqualTo(3);
    var counters = worker.warmingCounters();
    assertThat(counters.hintedStarted()).isEqualTo(3);
    assertThat(counters.hintedUsed()).isEqualTo(3);
    assertThat(counters.hintedWasted()).isZero();
  }

  @Test
  void aHintCountsIdleEnvironmentsAndUsesOnlyFreeMemory() throws Exception {
    var version = version();
    invoke(version, "{}");
    assertThat(worker.stats().inState(EnvironmentState.IDLE)).isEqualTo(1);
    var outcome = worker.hint(version, 6, Duration.ofSeconds(20), Duration.ofMinutes(2));
    assertThat(outcome.alreadyWarm()).isEqualTo(1);
    assertThat(outcome.started()).as("three more 128 MB environments fit in 512 MB").isEqualTo(3);
    assertThat(outcome.ready()).isEqualTo(3);
    assertThat(outcome.shortBecause()).contains("no memory left");
    assertThat(worker.stats().evictions()).isZero();
  }

  @Test
  void hintedEnvironmentsNobodyUsesLapse() throws Exception {
    var version = version();
    var outcome = worker.hint(version, 2, Duration.ofSeconds(20), Duration.ofSeconds(1));
    assertThat(outcome.ready()).isEqualTo(2);
    awaitTrue(() -> worker.warmingCounters().hintedWasted() == 2, "the unused environments lapse");
    assertThat(worker.stats().inState(EnvironmentState.IDLE)).isZero();
    assertThat(worker.committedMemoryMb()).isZero();
  }

  @Test
  void thePolicyLetsAnEnvironmentGoAndPrewarmsOneBeforeTheNextExpectedInvocation() throws Exception {
    var version = version();
    // Idle times of two to three seconds: the policy learns to expect the next call in that window.
    invoke(version, "{}");
    Thread.sleep(2_500);
    invoke(version, "{}");
    Thread.sleep(2_500);
    invoke(version, "{}");
    var warming = worker.warming("000000000000", "f").getFirst();
    assertThat(warming.history().lastPlan()).isInstanceOf(WarmPlan.PrewarmLater.class);
    assertThat(worker.stats().coldStarts()).isEqualTo(1);

    awaitTrue(() -> worker.warmingCounters().prewarmsStarted() == 1
        && worker.stats().inState(EnvironmentState.IDLE) + worker.stats().inState(EnvironmentState.FROZEN) == 1,
        "the pre-warmed environment is idle");
    var result = invoke(version, "{}");
    assertThat(result.initDurationMs()).as("served by the pre-warmed environment").isNull();
    assertThat(worker.stats().coldStarts()).isEqualTo(1);
    assertThat(worker.warmingCounters().prewarmsUsed()).isEqualTo(1);
    assertThat(worker.stats().entered(EnvironmentState.RETIRED)).as("the first environment was let go").isEqualTo(1);
  }

  private List<InvocationResult> concurrently(FunctionVersion version, int count) throws Exception {
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      var futures = new ArrayList<Future<InvocationResult>>();
      for (int i = 0; i < count; i++) {
        futures.add(pool.submit(() -> invoke(version, "{\"sleep\":300}")));
      }
      var results = new ArrayList<InvocationResult>();
      for (var future : futures) {
        results.add(future.get());
      }
      return results;
    }
  }

  private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting until %s", what).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private InvocationResult invoke(FunctionVersion version, String payload) throws InterruptedException {
    return worker.invoke(new InvocationRequest(UUID.randomUUID().toString(), version,
        "arn:aws:lambda:us-east-1:000000000000:function:f", payload.getBytes(StandardCharsets.UTF_8), null, false,
        null));
  }

  private FunctionVersion version() throws IOException {
    var code = CodeZips.store(dir, zips, "index.js", HANDLER);
    return new FunctionVersion("000000000000", "f", FunctionVersion.LATEST, "nodejs22.x", "index.handler",
        "arn:aws:iam::000000000000:role/r", "", 128, 3, 512, Map.of(), List.of(), code,
        Instant.now(), UUID.randomUUID().toString(), FunctionState.Active, LastUpdateStatus.Successful);
  }
}
