package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Runs the Java runtime's snapshot recipe the way the worker does, with host processes: the training run, then
 * environments started from its files. Sandbox paths are host directories, the same ones for training and
 * restore, as the sandbox's mounts give.
 *
 * @param track registers a started process for clean-up
 */
record JavaAot(RuntimeCatalog catalog, String runtime, Path task, Path dirs, UnaryOperator<RuntimeProcess> track) {

  /** The run files directory of environments started from one training run. */
  record Snapshot(Path runFiles, SnapshotRecipe recipe) {}

  SnapshotRecipe recipe() {
    return catalog.snapshotRecipe(runtime).orElseThrow();
  }

  /** Trains for {@code handler} and places the files as the worker does; fails unless the run succeeds. */
  Snapshot train(String handler, FakeRuntimeApi api) throws Exception {
    RuntimeProcess p = startTraining(handler, api);
    Integer exit = p.awaitExit(Duration.ofMinutes(3));
    assertThat(exit).as(p.output()).isEqualTo(0);
    Path output = dirs.resolve("output-" + handler);
    // what the worker does: keep the files (same inode, so the same size and modification time), then place them
    Path runFiles = Files.createDirectories(dirs.resolve("run-" + handler));
    for (String file : recipe().files()) {
      assertThat(output.resolve(file)).isRegularFile();
      Files.createLink(runFiles.resolve(file), output.resolve(file));
    }
    return new Snapshot(runFiles, recipe());
  }

  RuntimeProcess startTraining(String handler, FakeRuntimeApi api) throws IOException {
    SnapshotRecipe recipe = recipe();
    Path output = Files.createDirectories(dirs.resolve("output-" + handler));
    Path runFiles = dirs.resolve("run-" + handler);
    List<String> command = recipe.trainingCommand().stream().map(a -> host(a, runFiles, output)).toList();
    Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, task, api);
    recipe.trainingEnvironment().forEach((k, v) -> env.put(k, host(v, runFiles, output)));
    return track.apply(RuntimeProcess.start(command, env, task));
  }

  /** An environment started from {@code snapshot}; with {@code classLog}, the JVM logs its class loading there. */
  RuntimeProcess restore(Snapshot snapshot, String handler, FakeRuntimeApi api, Path classLog) throws IOException {
    RuntimeCommand cmd = snapshot.recipe().restore().apply(catalog.command(runtime, handler).orElseThrow());
    List<String> command = new ArrayList<>();
    for (String arg : cmd.command()) {
      command.add(host(arg, snapshot.runFiles(), null));
    }
    if (classLog != null) {
      command.add(1, "-Xlog:class+load=info:file=" + classLog);
    }
    Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, task, api);
    cmd.extraEnvironment().forEach((k, v) -> env.put(k, host(v, snapshot.runFiles(), null)));
    return track.apply(RuntimeProcess.start(command, env, task));
  }

  /** A sandbox path in the host directory that backs it. */
  private String host(String value, Path runFiles, Path output) {
    String v = output == null ? value : value.replace(JavaAotRecipe.OUTPUT_DIR, output.toString());
    return v.replace(JavaAotRecipe.RUN_FILES_DIR, runFiles.toString())
        .replace(RuntimeCatalog.SANDBOX_RUNTIME_DIR, catalog.runtimeDir().toString())
        .replace(RuntimeCatalog.SANDBOX_TASK_ROOT, task.toString());
  }
}
