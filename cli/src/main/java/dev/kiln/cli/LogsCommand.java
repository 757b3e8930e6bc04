package dev.kiln.cli;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiln logs [-f] FUNCTION}: print a function's log stream, and keep following it with -f. */
@Command(name = "logs", mixinStandardHelpOptions = true, description = "Print a function's logs (-f to follow).")
final class LogsCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FUNCTION", description = "Function name or ARN.")
  String function;

  @Option(names = {"-f", "--follow"}, description = "Keep printing new log lines until Ctrl-C.")
  boolean follow;

  @Option(names = "--endpoint", defaultValue = "${env:KILN_ENDPOINT:-http://127.0.0.1:9000}", description = "Kiln endpoint (default: ${DEFAULT-VALUE}).")
  String endpoint;

  @Option(names = "--data-dir", defaultValue = "${env:KILN_DATA_DIR:-.kiln}", description = "Where to find the node's credentials file when AWS_* variables are not set.")
  Path dataDir;

  @Override
  public Integer call() throws Exception {
    KilnClient client;
    try {
      client = KilnClient.from(endpoint, dataDir);
    } catch (java.io.IOException e) {
      System.err.println("kiln: " + e.getMessage());
      return 2;
    }
    var path = "/kiln/v1/functions/" + URLEncoder.encode(function, StandardCharsets.UTF_8) + "/logs";
    long position = 0;
    while (true) {
      var query = "?position=" + position + "&limit=1000" + (follow ? "&wait=10" : "");
      tools.jackson.databind.JsonNode page;
      try {
        page = client.get(path + query);
      } catch (java.io.IOException e) {
        System.err.println("kiln: " + e.getMessage());
        return 1;
      }
      for (var event : page.path("events")) {
        System.out.println(Instant.ofEpochMilli(event.path("timestamp").asLong()) + " " + event.path("message").asString());
      }
      System.out.flush();
      long next = page.path("nextPosition").asLong(position);
      if (!follow && next == position) {
        return 0;
      }
      position = next;
    }
  }
}
