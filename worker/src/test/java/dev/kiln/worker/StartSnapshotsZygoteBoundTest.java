package dev.kiln.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.LastUpdateStatus;
import dev.kiln.runtimes.RuntimeCatalog;
import dev.kiln.sandbox.SandboxBackend;
import dev.kiln.sandbox.SandboxBackends;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Python zygotes on real crun sandboxes: how many run at once is bounded (the least recently used one with no
 * environment running makes way for a new one), and each zygote and its spare child hold the function's memory size
 * in the budget until they are closed.
 */
class StartSnapshotsZygoteBoundTest {
  private static final int MEMORY_MB = 128;

  private Path dir;
  private SandboxBackend backend;
  private RuntimeCatalog runtimes;
  private CodeCache cache;
  private StartSnapshots snapshots;
  private final Map<String, Path> zips = new ConcurrentHashMap<>();
  /** The budget: a plain counter, with as much room as asked for. */
  private final AtomicLong committedMb = new AtomicLong();
  private final AtomicInteger mostZygotes = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    dir = Files.createTempDirectory(Path.of("/tmp"), "kz");
    runtimes = RuntimeCatalog.install(dir.resolve("rt"));
    backend = SandboxBackends.detect(dir.resolve("sb"), dir.resolve("rt"));
    cache = new CodeCache(dir.resolve("cc"), zips::get);
    snapshots = new StartSnapshots(dir.resolve("snapshots"), backend, runtimes, "us-east-1",
        v -> cache.use(v.code()), (account, function) -> true, new StartSnapshots.MemoryBudget() {
          @Override
          public boolean tryReserve(String account, int mb) {
            committedMb.addAndGet(mb);
            return true;
          }

          @Override
          public boolean reserve(String account, int mb) {
            return tryReserve(account, mb);
          }

          @Override
          public void release(String account, int mb) {
            committedMb.addAndGet(-mb);
          }
        }, v -> dev.kiln.sandbox.Egress.NONE, 2);
  }

  @AfterEach
  void stop() {
    if (snapshots != null) {
      snapshots.close();
    }
    if (backend != null) {
      backend.close();
    }
    CodeCache.deleteTree(dir);
  }

  @Test
  void atMostTheBoundRunAndEachHoldsItsMemoryUntilClosed() throws Exception {
    assumeTrue(backend.forks(), "this machine's sandboxes cannot fork environments");
    var first = version("first");
    var second = version("second");
    var third = version("third");
    readyZygote(first);
    readyZygote(second);
    // Two zygotes and their spare children.
    await("zygotes and spares in the budget").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> committedMb.get() == 4L * MEMORY_MB);

    readyZygote(third);
    assertThat(mostZygotes.get()).as("zygotes running at once").isLessThanOrEqualTo(2);
    assertThat(plan(second)).as("the more recently used zygote stays").isInstanceOf(StartSnapshots.Plan.Fork.class);
    await("the evicted zygote's memory given back").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20)).until(() -> committedMb.get() == 4L * MEMORY_MB);

    snapshots.close();
    // A spare child being forked when the zygotes close gives its memory back once its fork returns.
    await("everything given back when the zygotes close").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20)).until(() -> committedMb.get() == 0);
  }

  /** Plans environments of {@code version} until its zygote is ready, noting how many zygotes ran meanwhile. */
  private void readyZygote(FunctionVersion version) {
    await("the zygote of " + version.functionName()).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
        .until(() -> plan(version) instanceof StartSnapshots.Plan.Fork);
  }

  private StartSnapshots.Plan plan(FunctionVersion version) {
    var plan = snapshots.plan(version, runtimes.command(version.runtime(), version.handler()).orElseThrow());
    mostZygotes.accumulateAndGet(snapshots.zygoteCount(), Math::max);
    return plan;
  }

  private FunctionVersion version(String name) throws IOException {
    var code = CodeZips.store(dir, zips, "lambda_function.py",
        "def handler(event, context):\n    return {'ok': True}\n");
    return new FunctionVersion("000000000000", name, FunctionVersion.LATEST, "python3.12", "lambda_function.handler",
        "arn:aws:iam::000000000000:role/r", "", MEMORY_MB, 5, 512, Map.of(), List.of(), code,
        Instant.now(), UUID.randomUUID().toString(), FunctionState.Active, LastUpdateStatus.Successful);
  }

}
