package dev.kiln.runtimes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Node.js runtimes' snapshot: a V8 start-up snapshot ({@code node --build-snapshot}) of Kiln's runtime with
 * the function's handler module loaded and its init code run, built by {@code node/snapshot.js}. Restoring
 * starts {@code node --snapshot-blob <file>} with no script: the snapshot's main function serves invocations.
 *
 * <p>The build refuses (exit status 1, last line {@code kiln snapshot: not possible: <reason>}) ES modules,
 * native addons, built-in modules Node cannot snapshot (http, https, vm, ...), an init that throws and an init
 * that leaves connections or timers open. During the build {@code AWS_LAMBDA_INITIALIZATION_TYPE} is
 * {@code snap-start}, as on Lambda.
 */
final class NodeSnapshotRecipe {
  static final String KIND = "node-startup-snapshot";
  static final String FILE = "node-startup.blob";
  /** Where the worker leaves the file for restores, and where the build writes it. */
  static final String RESTORE_PATH = "/run/kiln/" + FILE;
  static final String OUTPUT_PATH = "/run/kiln-output/" + FILE;
  static final String SCRIPT = RuntimeCatalog.SANDBOX_RUNTIME_DIR + "/node/snapshot.js";
  static final String BOOTSTRAP = RuntimeCatalog.SANDBOX_RUNTIME_DIR + "/node/bootstrap.js";

  /**
   * Node serializes once the event loop is empty; an init that keeps it busy (an interval, an open connection)
   * is killed after {@code KILN_SNAPSHOT_SETTLE_MS} (10 s). The builder cannot watch that with a timer of its
   * own: a timer cleared while serializing leaves no timer able to keep a restored process alive (Node 20).
   */
  private static final String SETTLE_WATCH = """
      ms=${KILN_SNAPSHOT_SETTLE_MS:-10000}
      timeout -s KILL "$((ms / 1000)).$(printf %03d $((ms % 1000)))" "$@"
      code=$?
      if [ "$code" = 137 ]; then
        echo "kiln snapshot: not possible: the function's initialization left work pending after $ms ms"
        exit 1
      fi
      exit "$code"
      """;

  private NodeSnapshotRecipe() {}

  static SnapshotRecipe recipe() {
    return new SnapshotRecipe(KIND,
        List.of("/bin/sh", "-c", SETTLE_WATCH, "kiln-snapshot",
            RuntimeCatalog.NODE, "--snapshot-blob", OUTPUT_PATH, "--build-snapshot", SCRIPT),
        Map.of("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start"),
        FILE,
        NodeSnapshotRecipe::restore);
  }

  /** The plain command with its bootstrap script replaced by the snapshot (node's own options stay). */
  static RuntimeCommand restore(RuntimeCommand plain) {
    List<String> args = new ArrayList<>();
    for (String arg : plain.command()) {
      if (arg.equals(BOOTSTRAP)) {
        args.add("--snapshot-blob");
        args.add(RESTORE_PATH);
      } else {
        args.add(arg);
      }
    }
    if (args.equals(plain.command())) {
      throw new IllegalArgumentException("not a Node.js runtime command: " + plain.command());
    }
    return new RuntimeCommand(args, plain.extraEnvironment(), plain.marksEndOfOutput());
  }
}
