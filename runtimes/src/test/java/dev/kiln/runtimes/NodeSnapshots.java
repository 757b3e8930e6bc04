package dev.kiln.runtimes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds and restores Node.js start-up snapshots the way the worker does ({@link RuntimeCatalog#snapshotRecipe}),
 * but as host processes: {@code /var/runtime}, {@code /var/task}, {@code /run/kiln-output} and {@code /run/kiln}
 * are rewritten to the installed runtime directory, the code directory and the given snapshot directory.
 */
final class NodeSnapshots {
  static final String RUNTIME = "nodejs20.x";

  private NodeSnapshots() {}

  /** The outcome of a snapshot build. */
  record Build(int exitCode, String output, Path blob) {
    String lastLine() {
      List<String> lines = output.strip().lines().toList();
      return lines.isEmpty() ? "" : lines.getLast();
    }
  }

  static SnapshotRecipe recipe(RuntimeCatalog catalog) {
    return catalog.snapshotRecipe(RUNTIME).orElseThrow();
  }

  /** Runs the recipe's training command with the function's environment plus the recipe's, {@code extraEnv} last. */
  static Build build(RuntimeCatalog catalog, String handler, Path task, Path snapshotDir, Map<String, String> extraEnv)
      throws IOException, InterruptedException {
    SnapshotRecipe recipe = recipe(catalog);
    RuntimeCommand plain = catalog.command(RUNTIME, handler).orElseThrow()
        .withHostPaths(catalog.runtimeDir(), task);
    Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, task, null);
    env.put("AWS_LAMBDA_LOG_STREAM_NAME", "build-stream");
    env.putAll(plain.extraEnvironment());
    env.putAll(recipe.trainingEnvironment());
    env.putAll(extraEnv);
    List<String> command = new ArrayList<>();
    for (String arg : recipe.trainingCommand()) {
      command.add(hostPath(arg, catalog, task, snapshotDir));
    }
    try (RuntimeProcess p = RuntimeProcess.start(command, env, task)) {
      Integer exit = p.awaitExit(Duration.ofMinutes(2));
      if (exit == null) {
        throw new IllegalStateException("snapshot build did not finish: " + p.output());
      }
      return new Build(exit, p.output(), snapshotDir.resolve(recipe.file()));
    }
  }

  /** Starts the restore command (the plain command through the recipe) with this environment's variables. */
  static RuntimeProcess restore(RuntimeCatalog catalog, String handler, Path task, Path snapshotDir,
      FakeRuntimeApi api, Map<String, String> extraEnv) throws IOException {
    RuntimeCommand restored = recipe(catalog).restore().apply(catalog.command(RUNTIME, handler).orElseThrow())
        .withHostPaths(catalog.runtimeDir(), task);
    List<String> command = new ArrayList<>();
    for (String arg : restored.command()) {
      command.add(hostPath(arg, catalog, task, snapshotDir));
    }
    Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, task, api);
    env.putAll(restored.extraEnvironment());
    env.putAll(extraEnv);
    return RuntimeProcess.start(command, env, task);
  }

  static RuntimeProcess plain(RuntimeCatalog catalog, String handler, Path task, FakeRuntimeApi api)
      throws IOException {
    return RuntimeProcess.start(catalog, RUNTIME, handler, task, api);
  }

  private static String hostPath(String value, RuntimeCatalog catalog, Path task, Path snapshotDir) {
    String dir = snapshotDir.toAbsolutePath().toString();
    return value
        .replace("/run/kiln-output/", dir + "/")
        .replace("/run/kiln/", dir + "/")
        .replace(RuntimeCatalog.SANDBOX_RUNTIME_DIR, catalog.runtimeDir().toString())
        .replace(RuntimeCatalog.SANDBOX_TASK_ROOT, task.toAbsolutePath().toString());
  }

  static Path newSnapshotDir(Path parent) throws IOException {
    return Files.createTempDirectory(parent, "snapshot-");
  }
}
