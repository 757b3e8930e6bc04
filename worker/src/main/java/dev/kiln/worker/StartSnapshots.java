package dev.kiln.worker;

import dev.kiln.core.EnvironmentModes;
import dev.kiln.core.FunctionVersion;
import dev.kiln.runtimes.RuntimeCatalog;
import dev.kiln.runtimes.RuntimeCommand;
import dev.kiln.runtimes.SnapshotRecipe;
import dev.kiln.sandbox.Launch;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.sandbox.SandboxBackend;
import dev.kiln.sandbox.SandboxLimits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up snapshots: each function configuration is initialized once, and new environments start from that state
 * instead of booting and initializing again.
 *
 * <ul>
 *   <li>Python: a zygote, the runtime with the handler imported and its init run, in a sandbox of the function;
 *       new environments are forks of it ({@link SandboxBackend#prepareFork}). It lives while the configuration
 *       is in use.
 *   <li>Runtimes with a {@link SnapshotRecipe} (Node.js: a V8 startup snapshot; Java: a JDK AOT cache of the
 *       function's classes): a training run in a sandbox writes one file, kept under {@code root/<key>/} and
 *       given read-only to every new environment.
 * </ul>
 *
 * A snapshot belongs to a configuration key (code, runtime, handler, environment variables, the runtime's own
 * files): changing any of them makes a new key, so an update never starts from a stale snapshot, and a version
 * published from $LATEST finds the snapshot $LATEST already made. Snapshots are made in the background, when a
 * configuration is activated and on its first use; until one is ready, and whenever making one fails (the code
 * does not allow it), environments start normally. {@value EnvironmentModes#SNAPSHOT_VARIABLE}{@code =off} opts
 * a function out.
 */
final class StartSnapshots implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StartSnapshots.class);
  private static final String ZYGOTE_SOCKET_VARIABLE = "_KILN_ZYGOTE_SOCKET";
  private static final String ZYGOTE_READY = "KILN-ZYGOTE-READY";
  private static final Duration TRAINING_LIMIT = Duration.ofMinutes(2);
  private static final Duration ZYGOTE_START_LIMIT = Duration.ofSeconds(30);
  /** Training runs get at least this much memory, whatever the function's size. */
  private static final int MIN_BUILD_MEMORY_MB = 512;

  /** How a new environment of a configuration starts. */
  sealed interface Plan {
    /** Boot the runtime, from a snapshot file when {@code snapshotKind} is not null. */
    record Boot(RuntimeCommand command, Map<String, Path> runFiles, String snapshotKind) implements Plan {}

    /** Fork the configuration's zygote. */
    record Fork(Zygote zygote) implements Plan {}
  }

  /**
   * A running zygote: the sandbox it runs in, the host path of its control socket, and a child forked ahead of
   * demand (isolated, in its cgroup, its Runtime API open), so a restore only hands it its environment.
   */
  record Zygote(String key, String account, String functionName, String version, Sandbox sandbox,
      Path controlSocket, AtomicLong lastUsedNanos, java.util.concurrent.ConcurrentLinkedQueue<Sandbox> spares,
      java.util.concurrent.atomic.AtomicBoolean refilling) {

    void close() {
      sandbox.close();
      for (Sandbox spare = spares.poll(); spare != null; spare = spares.poll()) {
        spare.close();
      }
    }
  }

  private final Path root;
  private final SandboxBackend backend;
  private final RuntimeCatalog runtimes;
  private final String region;
  private final Function<FunctionVersion, Path> codeDirs;
  private final Map<String, CompletableFuture<Boolean>> trainings = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<Zygote>> zygotes = new ConcurrentHashMap<>();
  private final Map<String, String> runtimeStamps = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** @param root where snapshot files are kept; null turns snapshots off */
  StartSnapshots(Path root, SandboxBackend backend, RuntimeCatalog runtimes, String region,
      Function<FunctionVersion, Path> codeDirs) {
    this.root = root;
    this.backend = backend;
    this.runtimes = runtimes;
    this.region = region;
    this.codeDirs = codeDirs;
    if (root != null) {
      try {
        Files.createDirectories(root);
        try (var stale = Files.list(root)) {
          stale.filter(p -> p.getFileName().toString().startsWith(".tmp-")).forEach(CodeCache::deleteTree);
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot prepare the snapshot directory " + root, e);
      }
    }
  }

  /** Starts making the configuration's snapshot in the background, if it has none yet. */
  void prepare(FunctionVersion version, RuntimeCommand plain) {
    plan(version, plain);
  }

  /** How to start a new environment now; never waits for a snapshot. */
  Plan plan(FunctionVersion version, RuntimeCommand plain) {
    var boot = new Plan.Boot(plain, Map.of(), null);
    if (root == null || closed || !EnvironmentModes.of(version.environment()).snapshots()) {
      return boot;
    }
    if (isPython(version.runtime())) {
      if (!backend.forks()) {
        return boot;
      }
      String key = key(version, "python");
      var zygote = zygotes.computeIfAbsent(key, k -> CompletableFuture.supplyAsync(
          () -> startZygote(k, version, plain), Thread::startVirtualThread));
      var ready = zygote.getNow(null);
      if (ready == null || ready.sandbox().exited().isDone()) {
        if (ready != null) {
          zygotes.remove(key, zygote); // it died: the next new environment starts another
          ready.close();
        }
        return boot;
      }
      ready.lastUsedNanos().set(System.nanoTime());
      return new Plan.Fork(ready);
    }
    var recipe = runtimes.snapshotRecipe(version.runtime()).orElse(null);
    if (recipe == null) {
      return boot;
    }
    String key = key(version, recipe.kind());
    Path dir = root.resolve(key);
    if (Files.isRegularFile(dir.resolve(recipe.file()))) {
      var files = new LinkedHashMap<String, Path>();
      recipe.files().forEach(name -> files.put(name, dir.resolve(name)));
      return new Plan.Boot(recipe.restore().apply(plain), files, recipe.kind());
    }
    if (!Files.exists(root.resolve(key + ".failed"))) {
      trainings.computeIfAbsent(key, k -> CompletableFuture.supplyAsync(
          () -> train(k, version, plain, recipe), Thread::startVirtualThread));
    }
    return boot;
  }

  private boolean train(String key, FunctionVersion version, RuntimeCommand plain, SnapshotRecipe recipe) {
    int memory = Math.max(MIN_BUILD_MEMORY_MB, version.memorySize());
    var variables = LambdaVariables.forVersion(version, region, "127.0.0.1:9001",
        LambdaVariables.logStreamName(version.version()), "snap-start", plain.extraEnvironment());
    variables.putAll(recipe.trainingEnvironment());
    var lastLine = new java.util.concurrent.atomic.AtomicReference<String>("");
    long started = System.nanoTime();
    try (Sandbox sandbox = backend.prepare(limits(version, memory))) {
      sandbox.launch(new Launch(recipe.trainingCommand(), variables, codeDirs.apply(version), memory, Map.of(), true),
          line -> {
            if (!line.isBlank()) lastLine.set(line);
          });
      var exit = sandbox.exited().get(TRAINING_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
      boolean complete = recipe.files().stream().allMatch(name -> Files.isRegularFile(sandbox.outputDir().resolve(name)));
      if (exit.code() != 0 || !complete) {
        return failed(key, version, recipe.kind() + " training ended with code " + exit.code() + ": " + lastLine.get());
      }
      Path temp = root.resolve(".tmp-" + key);
      Files.createDirectories(temp);
      for (String name : recipe.files()) {
        // modification times kept: a JDK AOT cache checks its class path's jars by size and time
        Files.copy(sandbox.outputDir().resolve(name), temp.resolve(name), StandardCopyOption.REPLACE_EXISTING,
            StandardCopyOption.COPY_ATTRIBUTES);
        Files.setPosixFilePermissions(temp.resolve(name),
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
      }
      Files.move(temp, root.resolve(key), StandardCopyOption.ATOMIC_MOVE);
      log.info("snapshot made: function={} version={} kind={} bytes={} took_ms={}", version.functionName(),
          version.version(), recipe.kind(), Files.size(root.resolve(key).resolve(recipe.file())),
          (System.nanoTime() - started) / 1_000_000);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return failed(key, version, recipe.kind() + " training took longer than " + TRAINING_LIMIT);
    } catch (IOException | RuntimeException | java.util.concurrent.ExecutionException e) {
      log.warn("snapshot training of {} failed: {}", version.functionName(), e.toString());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      trainings.remove(key);
    }
  }

  /** Remembers that this configuration cannot be snapshotted, so it is not trained again. */
  private boolean failed(String key, FunctionVersion version, String reason) {
    log.info("no snapshot: function={} version={} reason=\"{}\"", version.functionName(), version.version(), reason);
    try {
      Files.writeString(root.resolve(key + ".failed"), reason + "\n");
    } catch (IOException e) {
      log.debug("cannot record the failed snapshot {}: {}", key, e.toString());
    }
    return false;
  }

  private Zygote startZygote(String key, FunctionVersion version, RuntimeCommand plain) {
    // The function's own size: its forks see the zygote's cgroup files at /sys/fs/cgroup (a runtime sizing
    // itself from memory.limit_in_bytes must read the function's memory size there).
    int memory = version.memorySize();
    var variables = LambdaVariables.forVersion(version, region, "127.0.0.1:9001",
        LambdaVariables.logStreamName(version.version()), "snap-start", plain.extraEnvironment());
    variables.put(ZYGOTE_SOCKET_VARIABLE, Launch.OUTPUT_DIR + "/zygote.sock");
    var ready = new CompletableFuture<Boolean>();
    var lastLine = new java.util.concurrent.atomic.AtomicReference<String>("");
    Sandbox sandbox = null;
    try {
      sandbox = backend.prepare(limits(version, memory));
      sandbox.exited().thenRun(() -> ready.complete(false));
      sandbox.launch(new Launch(plain.command(), variables, codeDirs.apply(version), memory, Map.of(), true), line -> {
        if (line.equals(ZYGOTE_READY)) {
          ready.complete(true);
        } else if (!line.isBlank()) {
          lastLine.set(line);
          log.debug("zygote {}: {}", version.functionName(), line);
        }
      });
      if (ready.get(ZYGOTE_START_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.info("zygote ready: function={} version={} key={}", version.functionName(), version.version(), key);
        var zygote = new Zygote(key, version.account(), version.functionName(), version.version(), sandbox,
            sandbox.outputDir().resolve("zygote.sock"), new AtomicLong(System.nanoTime()),
            new java.util.concurrent.ConcurrentLinkedQueue<>(), new java.util.concurrent.atomic.AtomicBoolean());
        refill(zygote, forkLimits(version, Worker.MAX_PIDS));
        return zygote;
      }
      log.info("no zygote: function={} version={} reason=\"{}\"", version.functionName(), version.version(),
          lastLine.get());
    } catch (java.util.concurrent.TimeoutException e) {
      log.info("no zygote: function={} reason=\"init took longer than {}\"", version.functionName(), ZYGOTE_START_LIMIT);
    } catch (RuntimeException | java.util.concurrent.ExecutionException e) {
      log.warn("cannot start a zygote for {}: {}", version.functionName(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (sandbox != null) {
      sandbox.close();
    }
    return null; // remembered: this configuration boots normally
  }

  /** The environment's sandbox for a fork plan: the zygote's spare child when it fits, else one forked now. */
  Sandbox forkSandbox(Plan.Fork fork, FunctionVersion version, int maxPids) {
    var zygote = fork.zygote();
    var limits = forkLimits(version, maxPids);
    for (Sandbox spare = zygote.spares().poll(); spare != null; spare = zygote.spares().poll()) {
      if (!spare.exited().isDone() && spare.limits().sameShape(limits)) {
        refill(zygote, limits);
        return spare;
      }
      spare.close();
    }
    refill(zygote, limits);
    return backend.prepareFork(zygote.sandbox(), zygote.controlSocket(), limits);
  }

  /** Forks the zygote's next spare child in the background, unless one is there or on its way. */
  private void refill(Zygote zygote, SandboxLimits limits) {
    if (!zygote.spares().isEmpty() || !zygote.refilling().compareAndSet(false, true)) {
      return;
    }
    Thread.startVirtualThread(() -> {
      try {
        var spare = backend.prepareFork(zygote.sandbox(), zygote.controlSocket(), limits);
        zygote.spares().add(spare);
        if (closed || zygote.sandbox().exited().isDone()) {
          zygote.close();
        }
      } catch (RuntimeException e) {
        log.debug("no spare fork for {}: {}", zygote.functionName(), e.toString());
      } finally {
        zygote.refilling().set(false);
      }
    });
  }

  private static SandboxLimits forkLimits(FunctionVersion version, int maxPids) {
    return new SandboxLimits(version.memorySize(), version.ephemeralStorageSize(), maxPids, false);
  }

  /** Stops the zygotes of a function (deleted), or of its configurations other than {@code keep} (updated). */
  void retire(String account, String functionName, FunctionVersion keep) {
    String keepKey = keep == null ? null : key(keep, "python");
    zygotes.entrySet().removeIf(e -> {
      var z = e.getValue().getNow(null);
      if (z != null && z.account().equals(account) && z.functionName().equals(functionName)
          && !z.key().equals(keepKey) && (keep == null || z.version().equals(keep.version()))) {
        log.info("zygote retired: function={} version={}", z.functionName(), z.version());
        z.close();
        return true;
      }
      return false;
    });
  }

  /** Stops zygotes no environment was forked from for {@code idle}. */
  void retireIdle(Duration idle) {
    long cutoff = System.nanoTime() - idle.toNanos();
    zygotes.entrySet().removeIf(e -> {
      var z = e.getValue().getNow(null);
      if (z != null && z.lastUsedNanos().get() < cutoff) {
        z.close();
        return true;
      }
      return false;
    });
  }

  /** Zygotes of the account's functions running now. */
  int zygoteCount(String account) {
    return (int) zygotes.values().stream().map(f -> f.getNow(null))
        .filter(z -> z != null && z.account().equals(account)).count();
  }

  @Override
  public void close() {
    closed = true;
    for (var f : zygotes.values()) {
      f.thenAccept(z -> {
        if (z != null) z.close();
      });
    }
    zygotes.clear();
  }

  private static boolean isPython(String runtime) {
    return runtime != null && runtime.startsWith("python");
  }

  /**
   * The configuration key: the function and everything its snapshot depends on. Memory size and timeout are left out (the state
   * after init does not depend on them), the runtime's own files are in (a new Kiln build trains again).
   */
  private String key(FunctionVersion v, String kind) {
    // The function is part of the key: a snapshot holds what one function's init made, with its name and account.
    var text = new StringBuilder(String.join("\u0000", kind, v.account(), v.functionName(), v.code().sha256Hex(), v.runtime(),
        String.valueOf(v.handler()), new TreeMap<>(v.environment()).toString(), v.architectures().toString()));
    String family = kind.equals("python") ? "python" : kind.startsWith("node") ? "node" : "java";
    text.append('\u0000').append(runtimeStamps.computeIfAbsent(family, this::runtimeStamp));
    if (kind.equals("python")) {
      text.append('\u0000').append(v.version()); // a zygote's init saw the version's variables
    }
    try {
      var digest = MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** The runtime's installed files (names, sizes, times), read once: they do not change while Kiln runs. */
  private String runtimeStamp(String family) {
    var stamp = new StringBuilder();
    try (var files = Files.list(runtimes.runtimeDir().resolve(family))) {
      for (var f : files.sorted().toList()) {
        stamp.append(f.getFileName()).append(':').append(Files.size(f)).append(':')
            .append(Files.getLastModifiedTime(f).toMillis()).append('\u0000');
      }
    } catch (IOException e) {
      stamp.append("unlisted");
    }
    return stamp.toString();
  }

  private static SandboxLimits limits(FunctionVersion version, int memoryMb) {
    return new SandboxLimits(memoryMb, version.ephemeralStorageSize(), 1024, false);
  }
}
