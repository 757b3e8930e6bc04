package dev.kiln.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.LastUpdateStatus;
import dev.kiln.runtimes.RuntimeCatalog;
import dev.kiln.sandbox.SandboxBackends;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The worker with a real sandbox backend and the real Node runtime: reuse, concurrency, updates
 * without a cold spike, failures that retire environments, and the lifecycle counters.
 */
class WorkerTest {
  private static final String COUNTER = "let n = 0; exports.handler = async (e) => { n++; "
      + "if (e.crash) process.exit(3); if (e.sleep) await new Promise(r => setTimeout(r, e.sleep)); "
      + "console.log('call', n); return {code: '%s', n}; };";

  private Path dir;
  private Worker worker;
  private final Map<String, Path> zips = new ConcurrentHashMap<>();
  private final List<String> logged = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    // Short paths: sandbox roots must fit in a Unix socket path.
    dir = Files.createTempDirectory(Path.of("/tmp"), "kw");
    var runtimes = RuntimeCatalog.install(dir.resolve("rt"));
    var backend = SandboxBackends.detect(dir.resolve("sb"), dir.resolve("rt"));
    var cache = new CodeCache(dir.resolve("cc"), zips::get);
    worker = new Worker(new WorkerSettings("us-east-1", Duration.ofMinutes(5), Duration.ofSeconds(30), 1, 512), backend,
        runtimes, cache, (version, requestId, lines) -> logged.addAll(lines), ScalingGate.OPEN);
  }

  @AfterEach
  void stop() {
    worker.close();
    CodeCache.deleteTree(dir);
  }

  @Test
  void reusesAnEnvironmentAndKeepsItsState() throws Exception {
    var v1 = version("one", LastUpdateStatus.Successful);
    var first = invoke(v1, "{}");
    var second = invoke(v1, "{}");
    assertThat(text(first)).contains("\"n\":1");
    assertThat(text(second)).contains("\"n\":2");
    assertThat(first.initDurationMs()).isNotNull();
    assertThat(second.initDurationMs()).isNull();
    assertThat(worker.stats().coldStarts()).isEqualTo(1);
    assertThat(worker.stats().warmStarts()).isEqualTo(1);
    assertThat(worker.stats().inState(EnvironmentState.IDLE)).isEqualTo(1);
    Thread.sleep(100);
    assertThat(logged).anyMatch(line -> line.contains("call\t1") || line.endsWith("call 1"))
        .anyMatch(line -> line.startsWith("REPORT RequestId:"));
  }

  @Test
  void aDeletedFunctionsEnvironmentsNeverServeItsSuccessor() throws Exception {
    var v1 = version("one", LastUpdateStatus.Successful);
    invoke(v1, "{}");
    worker.retireFunction("000000000000", "f");
    var recreated = invoke(v1, "{}");
    assertThat(text(recreated)).contains("\"n\":1");
    assertThat(recreated.initDurationMs()).isNotNull();
  }

  @Test
  void concurrentInvocationsGetSeparateEnvironments() throws Exception {
    var v1 = version("one", LastUpdateStatus.Successful);
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      var futures = new ArrayList<java.util.concurrent.Future<InvocationResult>>();
      for (int i = 0; i < 3; i++) {
        futures.add(pool.submit(() -> invoke(v1, "{\"sleep\":300}")));
      }
      for (var future : futures) {
        assertThat(text(future.get())).contains("\"n\":1");
      }
    }
    assertThat(worker.stats().coldStarts()).isEqualTo(3);
    assertThat(worker.stats().inState(EnvironmentState.IDLE)).isEqualTo(3);
  }

  @Test
  void anUpdateIsServedWarmWhileItIsAppliedAndThenByPrewarmedReplacements() throws Exception {
    var v1 = version("one", LastUpdateStatus.Successful);
    invoke(v1, "{}");
    var updating = version("two", LastUpdateStatus.InProgress);
    // While InProgress, the old configuration's warm environment answers: no cold start.
    assertThat(text(invoke(updating, "{}"))).contains("\"code\":\"one\"");
    worker.prepare(updating);
    var applied = version("two", LastUpdateStatus.Successful);
    worker.retireSuperseded(applied);
    var after = invoke(applied, "{}");
    assertThat(text(after)).contains("\"code\":\"two\"");
    assertThat(after.initDurationMs()).as("the replacement was initialized ahead").isNull();
    assertThat(worker.stats().coldStarts()).isEqualTo(1);
    assertThat(worker.stats().inState(EnvironmentState.IDLE)).isEqualTo(1);
  }

  @Test
  void aCrashRetiresTheEnvironmentAndTheNextInvocationStartsCold() throws Exception {
    var v1 = version("one", LastUpdateStatus.Successful);
    invoke(v1, "{}");
    var crashed = invoke(v1, "{\"crash\":true}");
    assertThat(crashed.functionError()).isEqualTo("Unhandled");
    assertThat(text(crashed)).contains("Runtime.ExitError", "exit status 3");
    assertThat(text(invoke(v1, "{}"))).contains("\"n\":1");
    assertThat(worker.stats().entered(EnvironmentState.RETIRED)).isEqualTo(1);
  }

  @Test
  void aTimeoutReplacesTheEnvironment() throws Exception {
    var v1 = version("one", LastUpdateStatus.Successful);
    var timedOut = invoke(v1, "{\"sleep\":5000}");
    assertThat(text(timedOut)).contains("Sandbox.Timedout", "Task timed out after 1.00 seconds");
    assertThat(text(invoke(v1, "{}"))).contains("\"n\":1");
  }

  @Test
  void provisionedEnvironmentsAreReadyAheadServedFirstAndSpillOver() throws Exception {
    var v1 = version("one", LastUpdateStatus.Successful);
    worker.provision("k", v1, 2);
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (worker.provisionedStatus("k").allocated() < 2 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(worker.provisionedStatus("k").allocated()).isEqualTo(2);
    assertThat(worker.stats().coldStarts()).isZero();
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      var futures = new ArrayList<java.util.concurrent.Future<InvocationResult>>();
      for (int i = 0; i < 3; i++) {
        futures.add(pool.submit(() -> invoke(v1, "{\"sleep\":300}")));
      }
      int withInit = 0;
      for (var future : futures) {
        if (future.get().initDurationMs() != null) {
          withInit++;
        }
      }
      assertThat(withInit).as("only the spill-over invocation starts cold").isEqualTo(1);
    }
    assertThat(worker.stats().coldStarts()).isEqualTo(1);
    worker.deprovision("k");
    assertThat(worker.provisionedStatus("k").requested()).isZero();
  }

  @Test
  void aFullHostEvictsTheLeastRecentlyUsedIdleEnvironmentBeforeRefusing() throws Exception {
    // The budget is 512 MB: four 128 MB environments.
    var functions = new ArrayList<FunctionVersion>();
    for (int i = 0; i < 5; i++) {
      functions.add(named("f" + i, "v" + i));
    }
    for (int i = 0; i < 4; i++) {
      invoke(functions.get(i), "{}");
    }
    assertThat(worker.committedMemoryMb()).isEqualTo(512);
    invoke(functions.get(4), "{}");
    assertThat(worker.stats().evictions()).isEqualTo(1);
    assertThat(worker.committedMemoryMb()).isEqualTo(512);
    // f0 was the least recently used: it starts cold again; f3 is still warm.
    assertThat(invoke(functions.get(3), "{}").initDurationMs()).isNull();
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      var busy = new ArrayList<java.util.concurrent.Future<InvocationResult>>();
      for (int i = 1; i < 5; i++) {
        var v = functions.get(i);
        busy.add(pool.submit(() -> invoke(v, "{\"sleep\":800}")));
      }
      Thread.sleep(300);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> invoke(functions.get(0), "{}"))
          .isInstanceOf(HostCapacityExceeded.class);
      for (var future : busy) {
        future.get();
      }
    }
  }

  private FunctionVersion named(String name, String code) throws IOException {
    var v = version(code, LastUpdateStatus.Successful);
    return new FunctionVersion(v.account(), name, v.version(), v.runtime(), v.handler(), v.role(), v.description(),
        v.memorySize(), v.timeout(), v.ephemeralStorageSize(), v.environment(), v.architectures(), v.code(),
        v.lastModified(), v.revisionId(), v.state(), v.lastUpdateStatus());
  }

  private InvocationResult invoke(FunctionVersion version, String payload) throws InterruptedException {
    return worker.invoke(new InvocationRequest(UUID.randomUUID().toString(), version,
        "arn:aws:lambda:us-east-1:000000000000:function:f", payload.getBytes(StandardCharsets.UTF_8), null, false,
        null));
  }

  private FunctionVersion version(String code, LastUpdateStatus status) throws IOException {
    var codeRef = CodeZips.store(dir, zips, "index.js", COUNTER.formatted(code));
    return new FunctionVersion("000000000000", "f", FunctionVersion.LATEST, "nodejs22.x", "index.handler",
        "arn:aws:iam::000000000000:role/r", "", 128, 1, 512, Map.of(), List.of(), codeRef,
        Instant.now(), UUID.randomUUID().toString(), FunctionState.Active, status);
  }

  private static String text(InvocationResult result) {
    return new String(result.payload(), StandardCharsets.UTF_8);
  }

}
