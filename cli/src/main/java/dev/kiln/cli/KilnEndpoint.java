package dev.kiln.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a command finds the node and its credentials: the options shared by the commands that call a node. */
final class KilnEndpoint {
  @Option(names = "--endpoint", defaultValue = "${env:KILN_ENDPOINT:-http://127.0.0.1:9000}", description = "Kiln endpoint (default: ${DEFAULT-VALUE}).")
  String endpoint;

  @Option(names = "--data-dir", defaultValue = "${env:KILN_DATA_DIR:-.kiln}", description = "Where to find the node's credentials file when AWS_* variables are not set.")
  Path dataDir;

  KilnClient client() throws IOException {
    return KilnClient.from(endpoint, dataDir);
  }
}
