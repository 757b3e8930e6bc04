package dev.kiln.runtimes;

import java.util.ArrayList;
import java.util.List;

/**
 * The Java runtime's snapshot: a JDK AOT cache of one function (JEP 483/514/515: the JDK's, the runtime's and
 * the function's classes loaded and linked, and the method profiles of its initialization), trained at publish
 * time by {@code Bootstrap --train-function} (see {@code FunctionTraining} in runtime-java).
 *
 * <p>Two files: the cache ({@value #CACHE}) and the function's code packed into one jar ({@value #FUNCTION_JAR}),
 * since the cache only holds classes that came from jars on the class path. A new environment runs the plain
 * command with that jar appended to the class path, the function's cache in place of the runtime-wide one, and
 * {@code -Dkiln.function.jar}, which makes the bootstrap load the handler through the application class loader.
 * If the JVM finds the cache unusable after all (another JDK, other runtime jars), it starts without it,
 * silently, and still runs the function from the jar.
 */
final class JavaAotRecipe {
  static final String KIND = "java-aot-cache";
  static final String CACHE = "function.aot";
  static final String FUNCTION_JAR = "function-classes.jar";
  /** Where the training run writes, and where the snapshot's files appear afterwards (the sandbox's paths). */
  static final String OUTPUT_DIR = "/run/kiln-output";
  static final String RUN_FILES_DIR = "/run/kiln";

  private JavaAotRecipe() {}

  /** The recipe for a Java runtime whose plain command (without a handler) is {@code plain}. */
  static SnapshotRecipe of(RuntimeCommand plain) {
    List<String> training = new ArrayList<>(plain.command());
    training.addAll(List.of("--train-function", OUTPUT_DIR, RUN_FILES_DIR));
    return new SnapshotRecipe(KIND, training, plain.extraEnvironment(), CACHE, List.of(FUNCTION_JAR),
        JavaAotRecipe::restore);
  }

  /** {@code command} with the function's cache and jar. */
  static RuntimeCommand restore(RuntimeCommand command) {
    List<String> args = new ArrayList<>();
    for (int i = 0; i < command.command().size(); i++) {
      String arg = command.command().get(i);
      if (arg.startsWith("-XX:AOTCache=") || arg.equals("-Xlog:aot=off") || arg.equals("-Xlog:cds=off")) {
        continue; // the runtime-wide cache: the function's includes what it holds
      }
      if (arg.equals("-cp") || arg.equals("-classpath") || arg.equals("--class-path")) {
        // silent if the cache cannot be used after all: the JVM's messages would land in the function's logs
        args.addAll(List.of("-XX:AOTCache=" + RUN_FILES_DIR + "/" + CACHE, "-Xlog:aot=off", "-Xlog:cds=off",
            "-Dkiln.function.jar=" + RUN_FILES_DIR + "/" + FUNCTION_JAR));
        args.add(arg);
        args.add(command.command().get(++i) + ":" + RUN_FILES_DIR + "/" + FUNCTION_JAR);
        continue;
      }
      args.add(arg);
    }
    return new RuntimeCommand(args, command.extraEnvironment(), command.marksEndOfOutput());
  }
}
