package dev.kiln.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code kiln schedules ...}: cron, rate and one-time schedules that invoke functions, through
 * Kiln's schedule API ({@code /kiln/v1/schedules}).
 */
@Command(
    name = "schedules",
    mixinStandardHelpOptions = true,
    description = "Manage schedules that invoke functions: rate(5 minutes), cron(0 12 * * ? *), at(2030-01-31T08:00:00).",
    subcommands = {
      SchedulesCommand.Create.class,
      SchedulesCommand.ListSchedules.class,
      SchedulesCommand.Get.class,
      SchedulesCommand.Update.class,
      SchedulesCommand.Delete.class,
      SchedulesCommand.Enable.class,
      SchedulesCommand.Disable.class
    })
final class SchedulesCommand implements Runnable {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String PATH = "/kiln/v1/schedules";

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  /** Where the node is and whose keys to sign with, as for {@code kiln logs}. */
  static final class Connection {
    @Option(names = "--endpoint", defaultValue = "${env:KILN_ENDPOINT:-http://127.0.0.1:9000}", description = "Kiln endpoint (default: ${DEFAULT-VALUE}).")
    String endpoint;

    @Option(names = "--data-dir", defaultValue = "${env:KILN_DATA_DIR:-.kiln}", description = "Where to find the node's credentials file when AWS_* variables are not set.")
    Path dataDir;
  }

  /** One API call and how its outcome is printed; failures become a message on stderr and an exit code. */
  abstract static class Action implements Callable<Integer> {
    @Mixin Connection connection;

    abstract void run(KilnClient client) throws IOException, InterruptedException;

    @Override
    public Integer call() throws InterruptedException {
      KilnClient client;
      try {
        client = KilnClient.from(connection.endpoint, connection.dataDir);
      } catch (IOException e) {
        System.err.println("kiln: " + e.getMessage());
        return 2;
      }
      try {
        run(client);
        return 0;
      } catch (ConnectException e) {
        System.err.println("kiln: cannot reach Kiln at " + connection.endpoint + ". Start it with `kiln up`, or point "
            + "--endpoint (or KILN_ENDPOINT) at a running node.");
        return 1;
      } catch (IOException e) {
        System.err.println("kiln: " + e.getMessage());
        return 1;
      } catch (IllegalArgumentException e) {
        System.err.println("kiln: " + e.getMessage());
        return 2;
      }
    }
  }

  /** What create and update may set; on update, only the options given change. */
  static final class Settings {
    @Option(names = {"-e", "--expression"}, description = "When to run: rate(5 minutes), cron(0 12 * * ? *) or at(2030-01-31T08:00:00).")
    String expression;

    @Option(names = {"-f", "--function"}, description = "Function to invoke: name, partial ARN or ARN, optionally with :version or :alias.")
    String function;

    @Option(names = {"-q", "--qualifier"}, description = "Version or alias of the function to invoke.")
    String qualifier;

    @Option(names = {"-i", "--input"}, description = "JSON event to send (default: a scheduled-event document). May contain <aws.scheduler.scheduled-time> and the other context attributes.")
    String input;

    @Option(names = {"-z", "--timezone"}, description = "IANA time zone the expression is evaluated in (default: UTC).")
    String timezone;

    @Option(names = {"-w", "--flexible-window"}, paramLabel = "MINUTES", description = "Run each occurrence at a random moment up to MINUTES (1-1440) after its time; 0 turns the window off.")
    Integer flexibleWindow;

    @Option(names = "--start-date", description = "No run before this ISO-8601 time, e.g. 2030-01-01T00:00:00Z.")
    String startDate;

    @Option(names = "--end-date", description = "No run after this ISO-8601 time.")
    String endDate;

    @Option(names = {"-d", "--description"}, description = "What the schedule is for.")
    String description;

    /** Applies the options given to a request document. */
    void applyTo(ObjectNode request) {
      if (expression != null) {
        request.put("ScheduleExpression", expression);
      }
      if (timezone != null) {
        request.put("ScheduleExpressionTimezone", timezone);
      }
      if (startDate != null) {
        request.put("StartDate", startDate);
      }
      if (endDate != null) {
        request.put("EndDate", endDate);
      }
      if (description != null) {
        request.put("Description", description);
      }
      if (flexibleWindow != null) {
        var window = request.putObject("FlexibleTimeWindow");
        if (flexibleWindow == 0) {
          window.put("Mode", "OFF");
        } else {
          window.put("Mode", "FLEXIBLE");
          window.put("MaximumWindowInMinutes", flexibleWindow);
        }
      }
      var target = request.has("Target") ? (ObjectNode) request.get("Target") : request.putObject("Target");
      if (function != null || qualifier != null) {
        String name = function != null ? function : functionName(target.path("Arn").asString(""));
        target.put("Arn", qualifier == null ? name : name + ":" + qualifier);
      }
      if (input != null) {
        target.put("Input", input);
      }
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a schedule.")
  static final class Create extends Action {
    @Parameters(index = "0", paramLabel = "NAME", description = "Schedule name: letters, digits, '-', '_' or '.'.")
    String name;

    @Mixin Settings settings;

    @Option(names = "--disabled", description = "Create it disabled: it does not run until enabled.")
    boolean disabled;

    @Override
    void run(KilnClient client) throws IOException, InterruptedException {
      if (settings.expression == null || settings.function == null) {
        throw new IllegalArgumentException("create needs --expression and --function, for example: kiln schedules "
            + "create " + name + " --expression 'rate(5 minutes)' --function my-function");
      }
      var request = JSON.createObjectNode();
      settings.applyTo(request);
      if (disabled) {
        request.put("State", "DISABLED");
      }
      var created = client.send("POST", path(name), JSON.writeValueAsBytes(request));
      System.out.println("Created schedule " + name + ".");
      printDetails(created);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List schedules.")
  static final class ListSchedules extends Action {
    @Option(names = "--prefix", description = "Only schedules whose name starts with this.")
    String prefix;

    @Override
    void run(KilnClient client) throws IOException, InterruptedException {
      List<JsonNode> all = new ArrayList<>();
      String token = null;
      do {
        var query = new StringBuilder("?MaxResults=100");
        if (prefix != null) {
          query.append("&NamePrefix=").append(encode(prefix));
        }
        if (token != null) {
          query.append("&NextToken=").append(encode(token));
        }
        var page = client.get(PATH + query);
        page.path("Schedules").forEach(all::add);
        token = page.path("NextToken").isMissingNode() ? null : page.path("NextToken").asString();
      } while (token != null);
      if (all.isEmpty()) {
        System.out.println("No schedules. Create one with: kiln schedules create NAME --expression 'rate(5 minutes)' "
            + "--function FUNCTION");
        return;
      }
      var rows = new ArrayList<List<String>>();
      rows.add(List.of("NAME", "STATE", "EXPRESSION", "TIMEZONE", "FUNCTION", "NEXT INVOCATION", "LAST RUN"));
      for (var s : all) {
        rows.add(List.of(s.path("Name").asString(), s.path("State").asString(), s.path("ScheduleExpression").asString(),
            s.path("ScheduleExpressionTimezone").asString(), shortTarget(s.path("Target").path("Arn").asString()),
            s.path("NextInvocation").asString("-"), lastRunSummary(s.path("LastRun"))));
      }
      printTable(rows);
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a schedule and its last run.")
  static final class Get extends Action {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    void run(KilnClient client) throws IOException, InterruptedException {
      printDetails(client.get(path(name)));
    }
  }

  @Command(name = "update", mixinStandardHelpOptions = true, description = "Change a schedule; options not given keep their values.")
  static final class Update extends Action {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Mixin Settings settings;

    @Option(names = "--enabled", description = "Enable it.")
    boolean enabled;

    @Option(names = "--disabled", description = "Disable it.")
    boolean disabled;

    @Override
    void run(KilnClient client) throws IOException, InterruptedException {
      if (enabled && disabled) {
        throw new IllegalArgumentException("give --enabled or --disabled, not both");
      }
      var request = editable(client.get(path(name)));
      settings.applyTo(request);
      if (enabled || disabled) {
        request.put("State", enabled ? "ENABLED" : "DISABLED");
      }
      var updated = client.send("PUT", path(name), JSON.writeValueAsBytes(request));
      System.out.println("Updated schedule " + name + ".");
      printDetails(updated);
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a schedule.")
  static final class Delete extends Action {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    void run(KilnClient client) throws IOException, InterruptedException {
      client.send("DELETE", path(name), null);
      System.out.println("Deleted schedule " + name + ".");
    }
  }

  @Command(name = "enable", mixinStandardHelpOptions = true, description = "Enable a schedule: it runs from its next occurrence on.")
  static final class Enable extends Action {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    void run(KilnClient client) throws IOException, InterruptedException {
      setState(client, name, "ENABLED");
    }
  }

  @Command(name = "disable", mixinStandardHelpOptions = true, description = "Disable a schedule: it keeps its settings but does not run.")
  static final class Disable extends Action {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    void run(KilnClient client) throws IOException, InterruptedException {
      setState(client, name, "DISABLED");
    }
  }

  private static void setState(KilnClient client, String name, String state) throws IOException, InterruptedException {
    var request = editable(client.get(path(name)));
    request.put("State", state);
    var updated = client.send("PUT", path(name), JSON.writeValueAsBytes(request));
    System.out.println((state.equals("ENABLED") ? "Enabled" : "Disabled") + " schedule " + name + ".");
    printDetails(updated);
  }

  /** The members of a schedule that an update sends back (the API replaces the whole schedule). */
  private static ObjectNode editable(JsonNode schedule) {
    var request = JSON.createObjectNode();
    for (String member : List.of("ScheduleExpression", "ScheduleExpressionTimezone", "StartDate", "EndDate", "State",
        "Description")) {
      if (schedule.has(member)) {
        request.set(member, schedule.get(member));
      }
    }
    request.set("FlexibleTimeWindow", schedule.path("FlexibleTimeWindow"));
    var target = request.putObject("Target");
    target.put("Arn", schedule.path("Target").path("Arn").asString());
    if (schedule.path("Target").has("Input")) {
      target.put("Input", schedule.path("Target").path("Input").asString());
    }
    return request;
  }

  private static void printDetails(JsonNode s) {
    var rows = new ArrayList<List<String>>();
    rows.add(List.of("Name:", s.path("Name").asString()));
    rows.add(List.of("Arn:", s.path("Arn").asString()));
    rows.add(List.of("State:", s.path("State").asString()));
    rows.add(List.of("Expression:", s.path("ScheduleExpression").asString()));
    rows.add(List.of("Time zone:", s.path("ScheduleExpressionTimezone").asString()));
    var window = s.path("FlexibleTimeWindow");
    rows.add(List.of("Flexible window:", window.path("Mode").asString().equals("FLEXIBLE")
        ? window.path("MaximumWindowInMinutes").asInt() + " minutes" : "off"));
    rows.add(List.of("Function:", s.path("Target").path("Arn").asString()));
    rows.add(List.of("Input:", s.path("Target").has("Input") ? s.path("Target").path("Input").asString()
        : "(the default scheduled event)"));
    for (String[] date : new String[][] {{"StartDate", "Start date:"}, {"EndDate", "End date:"}}) {
      if (s.has(date[0])) {
        rows.add(List.of(date[1], s.path(date[0]).asString()));
      }
    }
    if (s.has("Description")) {
      rows.add(List.of("Description:", s.path("Description").asString()));
    }
    String next = s.has("NextInvocation") ? s.path("NextInvocation").asString() : "none";
    if (s.has("NextScheduledTime") && !s.path("NextScheduledTime").asString().equals(next)) {
      next += " (scheduled for " + s.path("NextScheduledTime").asString() + ")";
    }
    rows.add(List.of("Next invocation:", next));
    rows.add(List.of("Last run:", lastRunDetails(s.path("LastRun"))));
    rows.add(List.of("Runs:", s.path("InvocationCount").asLong() + " invoked, " + s.path("FailureCount").asLong()
        + " failed, " + s.path("MissedCount").asLong() + " missed while Kiln was down"));
    rows.add(List.of("Created:", s.path("CreationDate").asString()));
    rows.add(List.of("Modified:", s.path("LastModificationDate").asString()));
    printTable(rows);
  }

  private static String lastRunSummary(JsonNode run) {
    return run.isMissingNode() ? "never" : run.path("Status").asString() + " " + run.path("ScheduledTime").asString();
  }

  private static String lastRunDetails(JsonNode run) {
    if (run.isMissingNode()) {
      return "never";
    }
    var text = new StringBuilder(run.path("Status").asString()).append(" at ").append(run.path("AttemptedAt").asString())
        .append(" for ").append(run.path("ScheduledTime").asString());
    if (run.path("CatchUp").asBoolean()) {
      text.append(" (catch-up after downtime)");
    }
    if (run.path("Attempt").asInt() > 1) {
      text.append(", attempt ").append(run.path("Attempt").asInt());
    }
    if (run.has("RequestId")) {
      text.append(", request ").append(run.path("RequestId").asString());
    }
    if (run.has("Message")) {
      text.append(": ").append(run.path("Message").asString());
    }
    return text.toString();
  }

  /** {@code fn} or {@code fn:qualifier} from a function ARN. */
  private static String shortTarget(String arn) {
    String[] parts = arn.split(":");
    return parts.length >= 7 ? String.join(":", java.util.Arrays.copyOfRange(parts, 6, parts.length)) : arn;
  }

  private static String functionName(String arn) {
    String[] parts = arn.split(":");
    return parts.length >= 7 ? parts[6] : arn;
  }

  private static void printTable(List<List<String>> rows) {
    int columns = rows.getFirst().size();
    int[] widths = new int[columns];
    for (var row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    for (var row : rows) {
      var line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(i == columns - 1 ? row.get(i) : String.format("%-" + (widths[i] + 2) + "s", row.get(i)));
      }
      System.out.println(line.toString().stripTrailing());
    }
  }

  private static String path(String name) {
    return PATH + "/" + encode(name);
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }
}
