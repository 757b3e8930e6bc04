package dev.kiln.runtimes;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * How one runtime captures a function's start-up state into a file once, and how every later environment starts
 * from that file instead of booting from scratch.
 *
 * <p>The worker runs {@code trainingCommand} in a fresh sandbox that holds the function's code at
 * {@code /var/task}, the function's environment plus {@code trainingEnvironment}, and a writable
 * {@code /run/kiln-output}; a zero exit that leaves {@code /run/kiln-output/<file>} is a snapshot. A non-zero exit
 * means the function's code does not allow one (its last output line says why) and the function starts normally.
 * New environments then get the file read-only at {@code /run/kiln/<file>} and run {@code restore} applied to
 * the runtime's plain command.
 *
 * @param kind short name for logs and the bench ({@code node-startup-snapshot}, {@code java-aot-cache})
 * @param file the snapshot's file name, in {@code /run/kiln-output} during training and {@code /run/kiln} after
 */
public record SnapshotRecipe(String kind, List<String> trainingCommand, Map<String, String> trainingEnvironment,
    String file, UnaryOperator<RuntimeCommand> restore) {

  public SnapshotRecipe {
    trainingCommand = List.copyOf(trainingCommand);
    trainingEnvironment = Map.copyOf(trainingEnvironment);
  }
}
