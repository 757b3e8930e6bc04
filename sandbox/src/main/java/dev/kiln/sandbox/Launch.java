package dev.kiln.sandbox;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What to run in a prepared sandbox.
 *
 * @param command the runtime's command line, as seen inside the sandbox (for example {@code
 *     /var/runtime/bootstrap}); looked up on {@code PATH} when it has no slash
 * @param environment exactly the environment the command gets; nothing of the Kiln JVM's is added. If it
 *     has no {@code PATH}, Lambda's default {@value #DEFAULT_PATH} is added.
 * @param codeDir host directory whose content appears read-only at {@code /var/task}; {@code null} for an
 *     empty {@code /var/task}. Its files are hard-linked (same file system) or else copied, so they must be
 *     readable by uid 65534 (mode o+r, directories o+x).
 * @param memoryMb the memory limit the sandbox gets now, replacing {@link SandboxLimits#memoryMb()}
 * @param runFiles host files that appear read-only at {@value #RUN_FILES_DIR}{@code /<name>} in this sandbox
 *     only (start-up snapshots of the function: they hold its initialized state, so no other sandbox may see
 *     them); names are plain file names
 * @param writableOutput whether {@value #OUTPUT_DIR} is writable for the sandbox user (a snapshot training
 *     run writes its result there); the worker reads it at {@link Sandbox#outputDir()}
 * @param network where the sandbox may connect from now on (crun sandboxes; a process sandbox shares the host's
 *     network whatever this says)
 */
public record Launch(List<String> command, Map<String, String> environment, Path codeDir, int memoryMb,
    Map<String, Path> runFiles, boolean writableOutput, Egress network) {

  /** Where {@link #runFiles()} appear inside the sandbox. */
  public static final String RUN_FILES_DIR = "/run/kiln";
  /** The sandbox's output directory, writable only when {@link #writableOutput()} asks for it. */
  public static final String OUTPUT_DIR = "/run/kiln-output";

  /** Lambda's {@code PATH}, used when {@link #environment()} has none. */
  public static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin/:/bin:/opt/bin";

  public Launch {
    command = List.copyOf(command);
    if (command.isEmpty()) throw new IllegalArgumentException("command is empty");
    if (command.getFirst().isEmpty() || command.getFirst().contains("=")) {
      throw new IllegalArgumentException("command[0] must be a non-empty name without '=': " + command.getFirst());
    }
    for (String arg : command) {
      if (arg.indexOf('\0') >= 0) throw new IllegalArgumentException("command contains a NUL character");
    }
    var env = new LinkedHashMap<String, String>();
    environment.forEach((k, v) -> {
      if (k == null || k.isEmpty() || k.contains("=") || k.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("invalid environment variable name: " + k);
      }
      if (v == null || v.indexOf('\0') >= 0) throw new IllegalArgumentException("invalid value for " + k);
      env.put(k, v);
    });
    environment = Collections.unmodifiableMap(env);
    if (memoryMb < 16) throw new IllegalArgumentException("memoryMb must be at least 16: " + memoryMb);
    runFiles.keySet().forEach(name -> {
      if (name.isEmpty() || name.contains("/") || name.startsWith(".") || name.equals("runtime.sock")) {
        throw new IllegalArgumentException("invalid run file name: " + name);
      }
    });
    runFiles = Map.copyOf(runFiles);
    java.util.Objects.requireNonNull(network, "network");
  }

  /** A launch with no network. */
  public Launch(List<String> command, Map<String, String> environment, Path codeDir, int memoryMb,
      Map<String, Path> runFiles, boolean writableOutput) {
    this(command, environment, codeDir, memoryMb, runFiles, writableOutput, Egress.NONE);
  }

  public Launch(List<String> command, Map<String, String> environment, Path codeDir, int memoryMb) {
    this(command, environment, codeDir, memoryMb, Map.of(), false);
  }
}
