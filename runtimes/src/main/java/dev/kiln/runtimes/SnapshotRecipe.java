package dev.kiln.runtimes;

import java.util.ArrayList;
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
 * <p>A snapshot may need more than one file ({@code companionFiles}, for example the jar of the function's
 * classes that a JDK AOT cache was made from): the training run leaves them next to {@code file}, and they
 * appear next to it at {@code /run/kiln}, all or none. Keep their modification times (hard link, or copy with
 * the attributes): a JDK AOT cache checks the jars it was made from by size and modification time, and goes
 * unused when they differ.
 *
 * @param kind short name for logs and the bench ({@code node-startup-snapshot}, {@code java-aot-cache})
 * @param file the snapshot's file name, in {@code /run/kiln-output} during training and {@code /run/kiln} after
 * @param companionFiles names of further files of the snapshot, which travel with {@code file}
 */
public record SnapshotRecipe(String kind, List<String> trainingCommand, Map<String, String> trainingEnvironment,
    String file, List<String> companionFiles, UnaryOperator<RuntimeCommand> restore) {

  public SnapshotRecipe {
    trainingCommand = List.copyOf(trainingCommand);
    trainingEnvironment = Map.copyOf(trainingEnvironment);
    companionFiles = List.copyOf(companionFiles);
  }

  /** A snapshot that is one file. */
  public SnapshotRecipe(String kind, List<String> trainingCommand, Map<String, String> trainingEnvironment,
      String file, UnaryOperator<RuntimeCommand> restore) {
    this(kind, trainingCommand, trainingEnvironment, file, List.of(), restore);
  }

  /** Every file of the snapshot: {@code file}, then {@code companionFiles}. */
  public List<String> files() {
    List<String> all = new ArrayList<>();
    all.add(file);
    all.addAll(companionFiles);
    return List.copyOf(all);
  }
}
