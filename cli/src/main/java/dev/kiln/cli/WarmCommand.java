package dev.kiln.cli;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiln warm FUNCTION --count N [--qualifier Q] [--within 30s] [--expire-after 90s]}: announce
 * load, so Kiln has N environments of the function ready before it arrives.
 */
@Command(name = "warm", mixinStandardHelpOptions = true,
    description = "Announce upcoming load: Kiln readies environments of the function now (within its concurrency "
        + "and the node's memory) and lets unused ones lapse after the expiry.")
final class WarmCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FUNCTION", description = "Function name or ARN.")
  String function;

  @Option(names = "--count", required = true, description = "How many environments the load needs at once.")
  int count;

  @Option(names = "--qualifier", description = "Version or alias (default: $LATEST).")
  String qualifier;

  @Option(names = "--within", defaultValue = "30s",
      description = "When the load arrives at the latest, e.g. 30s, 5m (default: ${DEFAULT-VALUE}).")
  String within;

  @Option(names = "--expire-after", description = "How long unused environments are kept for the load (default: "
      + "the --within time plus a minute).")
  String expireAfter;

  @Option(names = "--endpoint", defaultValue = "${env:KILN_ENDPOINT:-http://127.0.0.1:9000}", description = "Kiln endpoint (default: ${DEFAULT-VALUE}).")
  String endpoint;

  @Option(names = "--data-dir", defaultValue = "${env:KILN_DATA_DIR:-.kiln}", description = "Where to find the node's credentials file when AWS_* variables are not set.")
  Path dataDir;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    var body = new LinkedHashMap<String, Object>();
    body.put("Count", count);
    if (qualifier != null) {
      body.put("Qualifier", qualifier);
    }
    body.put("WithinSeconds", seconds(within, "--within"));
    if (expireAfter != null) {
      body.put("ExpireAfterSeconds", seconds(expireAfter, "--expire-after"));
    }
    KilnClient client;
    try {
      client = KilnClient.from(endpoint, dataDir);
    } catch (java.io.IOException e) {
      System.err.println("kiln: " + e.getMessage());
      return 2;
    }
    tools.jackson.databind.JsonNode answer;
    try {
      answer = client.post("/kiln/v1/functions/" + URLEncoder.encode(function, StandardCharsets.UTF_8) + "/warm", body);
    } catch (java.io.IOException e) {
      System.err.println("kiln: " + e.getMessage());
      return 1;
    }
    int ready = answer.path("Ready").asInt();
    int pending = answer.path("Pending").asInt();
    System.out.printf(Locale.ROOT, "%s:%s: %d of %d environments ready (%d already warm, %d started%s), kept until %s%n",
        answer.path("FunctionName").asString(), answer.path("Version").asString(), ready, count,
        answer.path("AlreadyWarm").asInt(), answer.path("Started").asInt(),
        pending > 0 ? ", " + pending + " still initializing" : "", answer.path("ExpiresAt").asString());
    if (answer.has("Reason")) {
      System.out.println("fewer than requested: " + answer.path("Reason").asString());
    }
    return 0;
  }

  /** Accepts 30s, 5m, 1h, a bare number of seconds, or ISO-8601 (PT30S). */
  private int seconds(String text, String option) {
    var value = text.trim().toLowerCase(Locale.ROOT);
    try {
      long result;
      if (value.startsWith("pt")) {
        result = Duration.parse(value.toUpperCase(Locale.ROOT)).toSeconds();
      } else if (value.endsWith("ms")) {
        throw new NumberFormatException();
      } else if (value.endsWith("s")) {
        result = Long.parseLong(value.substring(0, value.length() - 1));
      } else if (value.endsWith("m")) {
        result = Long.parseLong(value.substring(0, value.length() - 1)) * 60;
      } else if (value.endsWith("h")) {
        result = Long.parseLong(value.substring(0, value.length() - 1)) * 3600;
      } else {
        result = Long.parseLong(value);
      }
      return Math.toIntExact(result);
    } catch (NumberFormatException | ArithmeticException | DateTimeParseException e) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          option + " takes whole seconds, minutes or hours, e.g. 30s, 5m, 1h (not '" + text + "').");
    }
  }
}
