package dev.kiln.worker;

import dev.kiln.core.EnvironmentModes;
import dev.kiln.core.FunctionVersion;
import dev.kiln.runtimes.RuntimeCatalog;
import dev.kiln.runtimes.RuntimeCommand;
import dev.kiln.runtimes.SnapshotRecipe;
import dev.kiln.sandbox.Egress;
import dev.kiln.sandbox.Launch;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.sandbox.SandboxBackend;
import dev.kiln.sandbox.SandboxLimits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
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
  /**
   * Names the function's system call filter as a classic BPF program (a run file of the zygote, read-only under
   * {@link Launch#RUN_FILES_DIR}): each fork installs it on itself with prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) as
   * the last step of its isolation, because the zygote's own filter must still let it make its namespaces.
   */
  static final String CHILD_SECCOMP_VARIABLE = "_KILN_CHILD_SECCOMP";
  private static final String CHILD_SECCOMP_FILE = "child-seccomp.bpf";
  private static final String ZYGOTE_READY = "KILN-ZYGOTE-READY";
  private static final Duration TRAINING_LIMIT = Duration.ofMinutes(2);
  private static final Duration ZYGOTE_START_LIMIT = Duration.ofSeconds(30);
  /** Training runs get at least this much memory, whatever the function's size. */
  private static final int MIN_BUILD_MEMORY_MB = 512;
  /** A snapshot file larger than this is refused (a function's AOT cache is tens of MB). */
  static final long MAX_SNAPSHOT_FILE_BYTES = 1L << 30;
  /** Names of the per-function directories under the root: {@code fn-<hash of account and name>}. */
  private static final String FUNCTION_DIR_PREFIX = "fn-";
  /**
   * The most zygotes a node runs at once, whatever memory is left: each is a process holding a function's
   * initialized state. Past it, the zygote used least recently (with no environment of its own running) is
   * retired, or the new configuration boots its environments.
   */
  static final int MAX_ZYGOTES = 16;
  /** After this many zygotes of one configuration broke (a fork failed), its environments boot for good. */
  private static final int MAX_BROKEN_ZYGOTES = 3;

  /**
   * The node's memory budget, kept by the worker: a zygote and its spare child are counted like environments of
   * the function's memory size, from the moment they start until they are closed, and shown in the function's
   * account's figures.
   */
  interface MemoryBudget {
    /** Commits {@code mb} for {@code account} if the budget has room now. */
    boolean tryReserve(String account, int mb);

    /** Commits {@code mb}, retiring idle environments, spare children and zygotes to make room; false if it cannot. */
    boolean reserve(String account, int mb);

    void release(String account, int mb);
  }
  /** In each function's directory: its account and name, one a line (read at start to find deleted functions). */
  private static final String OWNER_FILE = "owner";

  /** How a new environment of a configuration starts. */
  sealed interface Plan {
    /** Boot the runtime, from a snapshot file when {@code snapshotKind} is not null. */
    record Boot(RuntimeCommand command, Map<String, Path> runFiles, String snapshotKind) implements Plan {}

    /** Fork the configuration's zygote. */
    record Fork(Zygote zygote) implements Plan {}
  }

  /**
   * A running zygote: the sandbox it runs in, the host path of its control socket, and a child forked ahead of
   * demand (isolated, in its cgroup, its Runtime API open), so a restore only hands it its environment. The zygote
   * and each spare hold {@code memoryMb} of the node's budget until closed.
   */
  static final class Zygote {
    final String key;
    final String account;
    final String functionName;
    final String version;
    final Sandbox sandbox;
    final Path controlSocket;
    final int memoryMb;
    final AtomicLong lastUsedNanos = new AtomicLong(System.nanoTime());
    private final java.util.concurrent.ConcurrentLinkedQueue<Sandbox> spares = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicBoolean refilling = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    /** The environments forked from it (they die with it: they live in its PID namespace). */
    private final java.util.Set<Sandbox> forks = ConcurrentHashMap.newKeySet();
    private final MemoryBudget budget;

    Zygote(String key, FunctionVersion version, Sandbox sandbox, Path controlSocket, int memoryMb, MemoryBudget budget) {
      this.key = key;
      this.account = version.account();
      this.functionName = version.functionName();
      this.version = version.version();
      this.sandbox = sandbox;
      this.controlSocket = controlSocket;
      this.memoryMb = memoryMb;
      this.budget = budget;
    }

    /** A spare child, no longer counted as a spare (the caller owns it now); null when there is none. */
    Sandbox takeSpare() {
      var spare = spares.poll();
      if (spare != null) {
        budget.release(account, memoryMb);
      }
      return spare;
    }

    /** Records an environment forked from it, forgetting those that ended. */
    void adopt(Sandbox fork) {
      forks.removeIf(f -> f.exited().isDone());
      forks.add(fork);
    }

    /** Whether an environment forked from it is still running. */
    boolean hasLiveForks() {
      forks.removeIf(f -> f.exited().isDone());
      return !forks.isEmpty();
    }

    boolean broken() {
      return closed.get() || sandbox.exited().isDone();
    }

    void close() {
      if (closed.compareAndSet(false, true)) {
        sandbox.close();
        budget.release(account, memoryMb);
      }
      for (Sandbox spare = takeSpare(); spare != null; spare = takeSpare()) {
        spare.close();
      }
    }
  }

  private final Path root;
  private final SandboxBackend backend;
  private final RuntimeCatalog runtimes;
  private final String region;
  private final Function<FunctionVersion, CodeCache.Lease> codeDirs;
  private final Function<FunctionVersion, Egress> network;
  private final Map<String, CompletableFuture<Boolean>> trainings = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<Zygote>> zygotes = new ConcurrentHashMap<>();
  private final Map<String, String> runtimeStamps = new ConcurrentHashMap<>();
  /** Per function directory: the snapshot key each version was last planned with (what retiring keeps). */
  private final Map<String, Map<String, String>> liveKeys = new ConcurrentHashMap<>();
  /** Per function directory: when the function was deleted (System.nanoTime), so a training in flight is dropped. */
  private final Map<String, Long> retired = new ConcurrentHashMap<>();
  /** Per configuration key, how many of its zygotes broke. */
  private final Map<String, Integer> brokenZygotes = new ConcurrentHashMap<>();
  private final MemoryBudget budget;
  private final int maxZygotes;
  private volatile boolean closed;

  /**
   * @param root where snapshot files are kept; null turns snapshots off
   * @param functionExists whether a function (account, name) still exists: the snapshots of one deleted while
   *     Kiln was down are deleted at start
   * @param network the function's network policy: its training runs and zygotes run its init, which may connect
   * @param maxZygotes the most zygotes running at once ({@link #MAX_ZYGOTES} on a node)
   */
  StartSnapshots(Path root, SandboxBackend backend, RuntimeCatalog runtimes, String region,
      Function<FunctionVersion, CodeCache.Lease> codeDirs, java.util.function.BiPredicate<String, String> functionExists,
      MemoryBudget budget, Function<FunctionVersion, Egress> network, int maxZygotes) {
    this.network = network;
    this.root = root;
    this.budget = budget;
    this.maxZygotes = maxZygotes;
    this.backend = backend;
    this.runtimes = runtimes;
    this.region = region;
    this.codeDirs = codeDirs;
    if (root != null) {
      try {
        Files.createDirectories(root);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
        // Anything but a function's directory is left over: a crashed training, or the layout of an earlier Kiln
        // (whose copies followed links: what they hold is not to be trusted).
        try (var entries = Files.list(root)) {
          for (Path entry : entries.toList()) {
            if (!entry.getFileName().toString().startsWith(FUNCTION_DIR_PREFIX)
                || !Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
              CodeCache.deleteTree(entry);
              continue;
            }
            Path owner = entry.resolve(OWNER_FILE);
            var lines = Files.isRegularFile(owner, LinkOption.NOFOLLOW_LINKS) ? Files.readAllLines(owner) : List.<String>of();
            if (lines.size() != 2 || !functionExists.test(lines.get(0), lines.get(1))) {
              CodeCache.deleteTree(entry); // its function is gone
              continue;
            }
            try (var inside = Files.list(entry)) {
              inside.filter(p -> p.getFileName().toString().startsWith(".tmp-")).forEach(CodeCache::deleteTree);
            }
          }
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
      if (ready == null || ready.broken()) {
        if (ready != null) {
          zygotes.remove(key, zygote); // it died: the next new environment starts another
          ready.close();
        }
        return boot;
      }
      ready.lastUsedNanos.set(System.nanoTime());
      return new Plan.Fork(ready);
    }
    var recipe = runtimes.snapshotRecipe(version.runtime()).orElse(null);
    if (recipe == null) {
      return boot;
    }
    String key = key(version, recipe.kind());
    Path functionDir = functionDir(version.account(), version.functionName());
    liveKeys.computeIfAbsent(functionDir.getFileName().toString(), k -> new ConcurrentHashMap<>())
        .put(version.version(), key);
    Path dir = functionDir.resolve(key);
    if (Files.isRegularFile(dir.resolve(recipe.file()), LinkOption.NOFOLLOW_LINKS)) {
      var files = new LinkedHashMap<String, Path>();
      recipe.files().forEach(name -> files.put(name, dir.resolve(name)));
      return new Plan.Boot(recipe.restore().apply(plain), files, recipe.kind());
    }
    if (!Files.exists(functionDir.resolve(key + ".failed"), LinkOption.NOFOLLOW_LINKS)) {
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
      try (var code = codeDirs.apply(version)) {
        sandbox.launch(new Launch(recipe.trainingCommand(), variables, code.directory(), memory, Map.of(), true,
            network.apply(version)),
            line -> {
              if (!line.isBlank()) lastLine.set(line);
            });
      }
      var exit = sandbox.exited().get(TRAINING_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
      if (exit.code() != 0) {
        return failed(key, version, recipe.kind() + " training ended with code " + exit.code() + ": " + lastLine.get());
      }
      Path functionDir = createFunctionDir(version);
      Path temp = functionDir.resolve(".tmp-" + key);
      CodeCache.deleteTree(temp);
      createPrivateDirectory(temp);
      for (String name : recipe.files()) {
        // The sandbox wrote these: taken without following links, from a sandbox whose processes are all gone.
        // Their modification times are kept: a JDK AOT cache checks its class path's jars by size and time.
        try {
          sandbox.takeOutput(name, temp.resolve(name), MAX_SNAPSHOT_FILE_BYTES);
        } catch (IOException e) {
          CodeCache.deleteTree(temp);
          log.warn("snapshot output refused: function={} version={} file={} reason=\"{}\"", version.functionName(),
              version.version(), name, e.getMessage());
          return failed(key, version, recipe.kind() + " training left an unusable " + name + ": " + e.getMessage());
        }
      }
      Path made = functionDir.resolve(key);
      Files.move(temp, made, StandardCopyOption.ATOMIC_MOVE);
      Long retiredAt = retired.get(functionDir.getFileName().toString());
      if (retiredAt != null && retiredAt - started > 0) { // the function was deleted while it trained
        CodeCache.deleteTree(made);
        return false;
      }
      log.info("snapshot made: function={} version={} kind={} bytes={} took_ms={}", version.functionName(),
          version.version(), recipe.kind(), Files.size(made.resolve(recipe.file())),
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
      Path functionDir = createFunctionDir(version);
      Files.writeString(functionDir.resolve(key + ".failed"), reason + "\n", StandardOpenOption.CREATE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      log.debug("cannot record the failed snapshot {}: {}", key, e.toString());
    }
    return false;
  }

  private Zygote startZygote(String key, FunctionVersion version, RuntimeCommand plain) {
    // The function's own size: its forks see the zygote's cgroup files at /sys/fs/cgroup (a runtime sizing
    // itself from memory.limit_in_bytes must read the function's memory size there).
    int memory = version.memorySize();
    if (!makeRoomForZygote(key, version.account(), memory)) {
      log.info("no zygote now: function={} version={} reason=\"no memory or zygote left on this node\"",
          version.functionName(), version.version());
      zygotes.remove(key); // a later cold start tries again
      return null;
    }
    var variables = LambdaVariables.forVersion(version, region, "127.0.0.1:9001",
        LambdaVariables.logStreamName(version.version()), "snap-start", plain.extraEnvironment());
    variables.put(ZYGOTE_SOCKET_VARIABLE, Launch.OUTPUT_DIR + "/zygote.sock");
    var runFiles = new LinkedHashMap<String, Path>();
    backend.forkFilterProgram().ifPresent(program -> {
      runFiles.put(CHILD_SECCOMP_FILE, program);
      variables.put(CHILD_SECCOMP_VARIABLE, Launch.RUN_FILES_DIR + "/" + CHILD_SECCOMP_FILE);
    });
    var ready = new CompletableFuture<Boolean>();
    var lastLine = new java.util.concurrent.atomic.AtomicReference<String>("");
    Sandbox sandbox = null;
    try {
      sandbox = backend.prepareZygote(limits(version, memory));
      sandbox.exited().thenRun(() -> ready.complete(false));
      try (var code = codeDirs.apply(version)) {
        sandbox.launch(new Launch(plain.command(), variables, code.directory(), memory, runFiles, true,
            network.apply(version)), line -> {
          if (line.equals(ZYGOTE_READY)) {
            ready.complete(true);
          } else if (!line.isBlank()) {
            lastLine.set(line);
            log.debug("zygote {}: {}", version.functionName(), line);
          }
        });
      }
      if (ready.get(ZYGOTE_START_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.info("zygote ready: function={} version={} key={}", version.functionName(), version.version(), key);
        var zygote = new Zygote(key, version, sandbox, sandbox.outputDir().resolve("zygote.sock"), memory, budget);
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
    budget.release(version.account(), memory);
    return null; // remembered: this configuration boots normally
  }

  /**
   * Commits a new zygote's memory within the node's budget and its zygote bound, retiring the zygote used least
   * recently (and with no environment of its own running) when the bound is reached.
   */
  private boolean makeRoomForZygote(String key, String account, int memoryMb) {
    while (zygotesBesides(key) >= maxZygotes) {
      if (retireIdlestZygote().isEmpty()) {
        return false;
      }
    }
    return budget.reserve(account, memoryMb);
  }

  /**
   * The environment's sandbox for a fork plan: the zygote's spare child when it fits, else one forked now; null when
   * the zygote cannot fork (it is then retired, and the caller boots the environment instead).
   */
  Sandbox forkSandbox(Plan.Fork fork, FunctionVersion version, int maxPids) {
    var zygote = fork.zygote();
    var limits = forkLimits(version, maxPids);
    for (Sandbox spare = zygote.takeSpare(); spare != null; spare = zygote.takeSpare()) {
      if (!spare.exited().isDone() && spare.limits().sameShape(limits)) {
        zygote.adopt(spare);
        refill(zygote, limits);
        return spare;
      }
      spare.close();
    }
    refill(zygote, limits);
    try {
      var forked = backend.prepareFork(zygote.sandbox, zygote.controlSocket, limits);
      zygote.adopt(forked);
      return forked;
    } catch (RuntimeException e) {
      retireBroken(zygote, e);
      return null;
    }
  }

  /** Forks the zygote's next spare child in the background, unless one is there or on its way. */
  private void refill(Zygote zygote, SandboxLimits limits) {
    if (!zygote.spares.isEmpty() || !zygote.refilling.compareAndSet(false, true)) {
      return;
    }
    Thread.startVirtualThread(() -> {
      boolean reserved = false;
      try {
        // Never at an environment's expense: a spare only takes memory the node has free.
        reserved = budget.tryReserve(zygote.account, zygote.memoryMb);
        if (!reserved) {
          return;
        }
        var spare = backend.prepareFork(zygote.sandbox, zygote.controlSocket, limits);
        zygote.spares.add(spare);
        reserved = false; // the spare holds it now
        if (closed || zygote.broken()) {
          zygote.close();
        }
      } catch (RuntimeException e) {
        retireBroken(zygote, e);
      } finally {
        if (reserved) {
          budget.release(zygote.account, zygote.memoryMb);
        }
        zygote.refilling.set(false);
      }
    });
  }

  /**
   * Retires a zygote that could not fork (stopped, dead, not answering): new environments of its configuration
   * boot until the next cold start starts another zygote, unless too many of its zygotes broke already.
   */
  private void retireBroken(Zygote zygote, RuntimeException why) {
    if (closed || zygote.closed.get()) {
      return;
    }
    int broken = brokenZygotes.merge(zygote.key, 1, Integer::sum);
    log.warn("zygote retired: function={} version={} reason=\"a fork failed: {}\"{}", zygote.functionName,
        zygote.version, why.getMessage(), broken >= MAX_BROKEN_ZYGOTES ? " (its environments boot from now on)" : "");
    var gone = broken >= MAX_BROKEN_ZYGOTES ? CompletableFuture.<Zygote>completedFuture(null) : null;
    zygotes.computeIfPresent(zygote.key, (k, f) -> f.getNow(null) == zygote ? gone : f);
    zygote.close();
  }

  /** Drops one spare child, to make room in the memory budget; false when no zygote has one. */
  boolean dropSpare() {
    for (var f : zygotes.values()) {
      var z = f.getNow(null);
      var spare = z == null ? null : z.takeSpare();
      if (spare != null) {
        spare.close();
        return true;
      }
    }
    return false;
  }

  /** Retires the zygote used least recently among those with no environment running; its account, or empty. */
  java.util.Optional<String> retireIdlestZygote() {
    Zygote idlest = null;
    for (var f : zygotes.values()) {
      var z = f.getNow(null);
      if (z != null && !z.hasLiveForks() && (idlest == null || z.lastUsedNanos.get() < idlest.lastUsedNanos.get())) {
        idlest = z;
      }
    }
    if (idlest == null) {
      return java.util.Optional.empty();
    }
    var chosen = idlest;
    if (zygotes.computeIfPresent(chosen.key, (k, f) -> f.getNow(null) == chosen ? null : f) == null) {
      log.info("zygote evicted: function={} version={}", chosen.functionName, chosen.version);
    }
    chosen.close();
    return java.util.Optional.of(chosen.account);
  }

  private static SandboxLimits forkLimits(FunctionVersion version, int maxPids) {
    return new SandboxLimits(version.memorySize(), version.ephemeralStorageSize(), maxPids, false);
  }

  /** Stops the zygotes of a function (deleted), or of its configurations other than {@code keep} (updated). */
  void retire(String account, String functionName, FunctionVersion keep) {
    if (root != null) {
      deleteSnapshotFiles(account, functionName, keep);
    }
    String keepKey = keep == null ? null : key(keep, "python");
    zygotes.entrySet().removeIf(e -> {
      var z = e.getValue().getNow(null);
      if (z != null && z.account.equals(account) && z.functionName.equals(functionName)
          && !z.key.equals(keepKey) && (keep == null || z.version.equals(keep.version()))) {
        log.info("zygote retired: function={} version={}", z.functionName, z.version);
        z.close();
        return true;
      }
      return false;
    });
  }

  /**
   * Deletes a function's snapshot files: all of them when it was deleted ({@code keep} null), else those of
   * configurations no version of it was last planned with (an update made them unreachable).
   */
  private void deleteSnapshotFiles(String account, String functionName, FunctionVersion keep) {
    Path functionDir = functionDir(account, functionName);
    String name = functionDir.getFileName().toString();
    if (keep == null) {
      retired.put(name, System.nanoTime());
      liveKeys.remove(name);
      CodeCache.deleteTree(functionDir);
      return;
    }
    var recipe = runtimes.snapshotRecipe(keep.runtime()).orElse(null);
    var keys = liveKeys.computeIfAbsent(name, k -> new ConcurrentHashMap<>());
    if (recipe != null) {
      keys.put(keep.version(), key(keep, recipe.kind()));
    }
    var live = java.util.Set.copyOf(keys.values());
    try (var entries = Files.list(functionDir)) {
      for (Path entry : entries.toList()) {
        String file = entry.getFileName().toString();
        String key = file.endsWith(".failed") ? file.substring(0, file.length() - ".failed".length()) : file;
        if (!file.startsWith(".tmp-") && !file.equals(OWNER_FILE) && !live.contains(key)
            && !trainings.containsKey(key)) {
          CodeCache.deleteTree(entry);
        }
      }
    } catch (java.nio.file.NoSuchFileException e) {
      // no snapshot was ever made
    } catch (IOException e) {
      log.warn("cannot list the snapshots of {}: {}", functionName, e.toString());
    }
  }

  /** The directory of one function's snapshots; its name never depends on text a client chose. */
  private Path functionDir(String account, String functionName) {
    try {
      var digest = MessageDigest.getInstance("SHA-256")
          .digest((account + "\u0000" + functionName).getBytes(StandardCharsets.UTF_8));
      return root.resolve(FUNCTION_DIR_PREFIX + HexFormat.of().formatHex(digest, 0, 16));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** The function's snapshot directory, created with its owner file if missing. */
  private Path createFunctionDir(FunctionVersion version) throws IOException {
    Path dir = functionDir(version.account(), version.functionName());
    createPrivateDirectory(dir);
    Path owner = dir.resolve(OWNER_FILE);
    if (!Files.exists(owner, LinkOption.NOFOLLOW_LINKS)) {
      Files.writeString(owner, version.account() + "\n" + version.functionName() + "\n");
    }
    return dir;
  }

  /** A directory only Kiln can enter (mode 0700), created if missing. */
  private static void createPrivateDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (java.nio.file.FileAlreadyExistsException e) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) throw e;
      }
    }
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
  }

  /** Stops zygotes no environment was forked from for {@code idle}, and those that died. */
  void retireIdle(Duration idle) {
    long cutoff = System.nanoTime() - idle.toNanos();
    zygotes.entrySet().removeIf(e -> {
      var z = e.getValue().getNow(null);
      if (z != null && (z.lastUsedNanos.get() < cutoff || z.broken())) {
        z.close();
        return true;
      }
      return false;
    });
  }

  /** Zygotes running or starting, other than the configuration {@code key}'s. */
  private int zygotesBesides(String key) {
    return (int) zygotes.entrySet().stream()
        .filter(e -> !e.getKey().equals(key) && (!e.getValue().isDone() || e.getValue().getNow(null) != null))
        .count();
  }

  /** Zygotes running now. */
  int zygoteCount() {
    return (int) zygotes.values().stream().filter(f -> f.getNow(null) != null).count();
  }

  /** Zygotes of the account's functions running now. */
  int zygoteCount(String account) {
    return (int) zygotes.values().stream().map(f -> f.getNow(null))
        .filter(z -> z != null && z.account.equals(account)).count();
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
