package dev.kiln.runtimes;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How to start one language runtime inside a sandbox.
 *
 * <p>Paths are sandbox paths ({@code /var/runtime/...}, {@code /var/task/...}, {@code /usr/bin/...}). The
 * worker starts {@code command} with the Lambda environment variables it sets itself ({@code _HANDLER},
 * {@code LAMBDA_TASK_ROOT}, {@code AWS_LAMBDA_RUNTIME_API}, {@code AWS_LAMBDA_FUNCTION_*}, ...) plus
 * {@code extraEnvironment}, the runtime-specific ones ({@code AWS_EXECUTION_ENV}, {@code NODE_PATH},
 * {@code PATH}, ...). Function configuration may override the latter, as on Lambda.
 *
 * @param marksEndOfOutput the runtime is one of Kiln's bootstraps, which print the line named by
 *     {@link #OUTPUT_MARK_VARIABLE} after a function's output and before its answer, so the worker knows
 *     exactly when an invocation's log is complete
 */
public record RuntimeCommand(List<String> command, Map<String, String> extraEnvironment, boolean marksEndOfOutput) {
  /** The variable through which the worker tells a Kiln bootstrap which line marks the end of output. */
  public static final String OUTPUT_MARK_VARIABLE = "_KILN_OUTPUT_MARK";

  public RuntimeCommand {
    command = List.copyOf(command);
    extraEnvironment = Map.copyOf(extraEnvironment);
  }

  /**
   * The same command for a backend that shares the host's file system view (no mount namespace): every
   * {@code /var/runtime} and {@code /var/task} path, in the arguments and in the environment values, is
   * replaced by the host directory that backs it.
   */
  public RuntimeCommand withHostPaths(Path runtimeDir, Path taskRoot) {
    List<String> args = new ArrayList<>(command.size());
    for (String arg : command) {
      args.add(hostPath(arg, runtimeDir, taskRoot));
    }
    Map<String, String> env = new LinkedHashMap<>();
    extraEnvironment.forEach((k, v) -> env.put(k, hostPath(v, runtimeDir, taskRoot)));
    return new RuntimeCommand(args, env, marksEndOfOutput);
  }

  private static String hostPath(String value, Path runtimeDir, Path taskRoot) {
    return value
        .replace(RuntimeCatalog.SANDBOX_RUNTIME_DIR, runtimeDir.toAbsolutePath().toString())
        .replace(RuntimeCatalog.SANDBOX_TASK_ROOT, taskRoot.toAbsolutePath().toString());
  }
}
