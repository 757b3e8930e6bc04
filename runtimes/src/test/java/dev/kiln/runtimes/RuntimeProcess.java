package dev.kiln.runtimes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A bootstrap started as a real child process the way the worker starts it, except that sandbox paths
 * ({@code /var/runtime}, {@code /var/task}) are rewritten to the installed runtime directory and the test's code
 * directory ({@link RuntimeCommand#withHostPaths}).
 */
final class RuntimeProcess implements AutoCloseable {
  private final Process process;
  private final Path log;
  final long startedNanos;
  final List<String> command;

  private RuntimeProcess(Process process, Path log, long startedNanos, List<String> command) {
    this.process = process;
    this.log = log;
    this.startedNanos = startedNanos;
    this.command = command;
  }

  /** The environment variables Kiln's worker sets for every function (as Lambda does). */
  static Map<String, String> lambdaEnvironment(String handler, Path taskRoot, FakeRuntimeApi api) {
    Map<String, String> env = new LinkedHashMap<>();
    if (api != null) { // none while a snapshot is built
      env.put("AWS_LAMBDA_RUNTIME_API", api.address());
    }
    env.put("_HANDLER", handler);
    env.put("LAMBDA_TASK_ROOT", taskRoot.toString());
    env.put("AWS_LAMBDA_FUNCTION_NAME", "test-fn");
    env.put("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256");
    env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/test-fn");
    env.put("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/23/[$LATEST]0123456789abcdef");
    env.put("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    env.put("AWS_REGION", "us-east-1");
    env.put("AWS_DEFAULT_REGION", "us-east-1");
    env.put("TZ", ":UTC");
    env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
    return env;
  }

  static RuntimeProcess start(RuntimeCatalog catalog, String runtimeId, String handler, Path taskRoot,
      FakeRuntimeApi api) throws IOException {
    return start(catalog, runtimeId, handler, taskRoot, api, Map.of());
  }

  static RuntimeProcess start(RuntimeCatalog catalog, String runtimeId, String handler, Path taskRoot,
      FakeRuntimeApi api, Map<String, String> extraEnv) throws IOException {
    RuntimeCommand command = catalog.command(runtimeId, handler)
        .orElseThrow(() -> new IllegalStateException(runtimeId + " is not supported here"))
        .withHostPaths(catalog.runtimeDir(), taskRoot);
    Map<String, String> env = lambdaEnvironment(handler, taskRoot, api);
    env.putAll(command.extraEnvironment());
    env.putAll(extraEnv);
    return start(command.command(), env, taskRoot);
  }

  static RuntimeProcess start(List<String> command, Map<String, String> env, Path workingDir) throws IOException {
    Path log = Files.createTempFile("kiln-runtime-", ".log");
    ProcessBuilder pb = new ProcessBuilder(command)
        .directory(workingDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().clear();
    pb.environment().putAll(env);
    long started = System.nanoTime();
    Process p = pb.start();
    return new RuntimeProcess(p, log, started, command);
  }

  /** Everything the process wrote to stdout and stderr so far. */
  String output() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "<" + e + ">";
    }
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** The exit code, or null if the process is still running after {@code timeout}. */
  Integer awaitExit(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
  }

  @Override
  public void close() throws IOException {
    process.destroyForcibly();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Files.deleteIfExists(log);
  }
}
