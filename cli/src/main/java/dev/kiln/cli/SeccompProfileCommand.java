package dev.kiln.cli;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kiln seccomp-profile FUNCTION}: the system calls Kiln learned of the function, one a line. */
@Command(name = "seccomp-profile", mixinStandardHelpOptions = true,
    description = "Print the system calls Kiln learned of a function (KILN_SECCOMP_PROFILE=learn), one a line.")
final class SeccompProfileCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FUNCTION", description = "Function name.")
  String function;

  @Option(names = "--endpoint", defaultValue = "${env:KILN_ENDPOINT:-http://127.0.0.1:9000}", description = "Kiln endpoint (default: ${DEFAULT-VALUE}).")
  String endpoint;

  @Option(names = "--data-dir", defaultValue = "${env:KILN_DATA_DIR:-.kiln}", description = "Where to find the node's credentials file when AWS_* variables are not set.")
  Path dataDir;

  @Override
  public Integer call() throws Exception {
    tools.jackson.databind.JsonNode answer;
    try {
      answer = KilnClient.from(endpoint, dataDir)
          .get("/kiln/v1/functions/" + URLEncoder.encode(function, StandardCharsets.UTF_8) + "/seccomp-profile");
    } catch (java.io.IOException e) {
      System.err.println("kiln: " + e.getMessage());
      return 1;
    }
    System.out.printf("# %s: mode %s, %s%n", answer.path("FunctionName").asString(), answer.path("Mode").asString(),
        answer.path("Learned").asBoolean() ? answer.path("Syscalls").size() + " calls learned" : "nothing learned yet");
    answer.path("Syscalls").forEach(call -> System.out.println(call.asString()));
    return 0;
  }
}
