package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.KilnCli;
import dev.kiln.e2e.support.ScheduleTestBase;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** {@code kiln schedules ...} run from the built jar against a server, as a user types it. */
class SchedulesCliTest extends ScheduleTestBase {
  private KilnCli kiln;
  private String fn;

  @BeforeAll
  void setUp() {
    kiln = new KilnCli(server.endpoint(), accessKey, secretKey, workDir);
    fn = eventLogger("sched-cli");
  }

  @Test
  void create_list_get_update_disable_enable_and_delete() {
    String name = uniqueName("cli");
    KilnCli.Run created = kiln.run("schedules", "create", name, "--expression", "cron(30 6 ? * MON-FRI *)",
        "--function", fn, "--timezone", "America/New_York", "--flexible-window", "15", "--input", "{\"from\":\"cli\"}",
        "--description", "weekday mornings");
    assertThat(created.exitCode()).as("%s", created).isZero();
    assertThat(created.stdout()).contains("Created schedule " + name + ".")
        .containsPattern("State:\\s+ENABLED")
        .containsPattern("Expression:\\s+cron\\(30 6 \\? \\* MON-FRI \\*\\)")
        .containsPattern("Time zone:\\s+America/New_York")
        .containsPattern("Flexible window:\\s+15 minutes")
        .containsPattern("Input:\\s+\\{\"from\":\"cli\"\\}")
        .containsPattern("Last run:\\s+never");
    JsonNode stored = getScheduleOk(name);
    assertThat(stored.path("Target").path("Arn").asString()).isEqualTo(arn(fn));
    assertThat(stored.path("FlexibleTimeWindow").path("MaximumWindowInMinutes").asInt()).isEqualTo(15);
    assertThat(stored.path("Description").asString()).isEqualTo("weekday mornings");

    KilnCli.Run list = kiln.run("schedules", "list", "--prefix", name);
    assertThat(list.exitCode()).as("%s", list).isZero();
    var lines = list.stdout().lines().toList();
    assertThat(lines.getFirst()).matches("NAME\\s+STATE\\s+EXPRESSION\\s+TIMEZONE\\s+FUNCTION\\s+NEXT INVOCATION\\s+LAST RUN");
    assertThat(lines).hasSize(2);
    assertThat(lines.get(1)).startsWith(name).contains("ENABLED").contains("cron(30 6 ? * MON-FRI *)")
        .contains(fn).contains(stored.path("NextInvocation").asString()).endsWith("never");

    KilnCli.Run get = kiln.run("schedules", "get", name);
    assertThat(get.exitCode()).as("%s", get).isZero();
    assertThat(get.stdout()).containsPattern("Arn:\\s+arn:aws:scheduler:us-east-1:000000000000:schedule/default/" + name)
        .contains("Next invocation:").contains("(scheduled for ");

    // Options not given keep their values.
    KilnCli.Run updated = kiln.run("schedules", "update", name, "--expression", "rate(2 hours)", "--flexible-window", "0");
    assertThat(updated.exitCode()).as("%s", updated).isZero();
    JsonNode afterUpdate = getScheduleOk(name);
    assertThat(afterUpdate.path("ScheduleExpression").asString()).isEqualTo("rate(2 hours)");
    assertThat(afterUpdate.path("FlexibleTimeWindow").path("Mode").asString()).isEqualTo("OFF");
    assertThat(afterUpdate.path("ScheduleExpressionTimezone").asString()).isEqualTo("America/New_York");
    assertThat(afterUpdate.path("Target").path("Input").asString()).isEqualTo("{\"from\":\"cli\"}");
    assertThat(afterUpdate.path("Description").asString()).isEqualTo("weekday mornings");

    KilnCli.Run disabled = kiln.run("schedules", "disable", name);
    assertThat(disabled.exitCode()).as("%s", disabled).isZero();
    assertThat(disabled.stdout()).contains("Disabled schedule " + name + ".").containsPattern("Next invocation:\\s+none");
    assertThat(getScheduleOk(name).path("State").asString()).isEqualTo("DISABLED");
    KilnCli.Run enabled = kiln.run("schedules", "enable", name);
    assertThat(enabled.exitCode()).as("%s", enabled).isZero();
    assertThat(getScheduleOk(name).path("State").asString()).isEqualTo("ENABLED");

    KilnCli.Run deleted = kiln.run("schedules", "delete", name);
    assertThat(deleted.exitCode()).as("%s", deleted).isZero();
    assertThat(deleted.stdout()).contains("Deleted schedule " + name + ".");
    assertThat(getSchedule(name).status()).isEqualTo(404);
  }

  @Test
  void a_schedule_created_with_the_cli_runs_the_function() {
    String name = uniqueName("cli-run");
    // A rate runs right away (a one-time schedule a few seconds ahead could pass while this JVM starts).
    KilnCli.Run created = kiln.run("schedules", "create", name, "--expression", "rate(1 day)", "--function", fn,
        "--input", "{\"cli\":\"" + name + "\"}");
    assertThat(created.exitCode()).as("%s", created).isZero();
    awaitEvents(fn, e -> name.equals(e.path("cli").asString()));
    KilnCli.Run get = kiln.run("schedules", "get", name);
    assertThat(get.stdout()).containsPattern("Last run:\\s+INVOKED at ").containsPattern("Runs:\\s+1 invoked, 0 failed");
  }

  @Test
  void errors_say_what_went_wrong_and_what_to_do() {
    String name = uniqueName("cli-bad");
    KilnCli.Run badCron = kiln.run("schedules", "create", name, "--expression", "cron(0 12 * * *)", "--function", fn);
    assertThat(badCron.exitCode()).as("%s", badCron).isEqualTo(1);
    assertThat(badCron.stderr()).startsWith("kiln: InvalidParameterValueException: Invalid ScheduleExpression")
        .contains("6 fields");

    KilnCli.Run noFunction = kiln.run("schedules", "create", name, "--expression", "rate(5 minutes)");
    assertThat(noFunction.exitCode()).as("%s", noFunction).isEqualTo(2);
    assertThat(noFunction.stderr()).contains("create needs --expression and --function");

    KilnCli.Run missing = kiln.run("schedules", "get", name);
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.stderr()).contains("ResourceNotFoundException").contains("kiln schedules list");

    KilnCli.Run unknownFunction = kiln.run("schedules", "create", name, "--expression", "rate(5 minutes)",
        "--function", uniqueName("nobody"));
    assertThat(unknownFunction.exitCode()).isEqualTo(1);
    assertThat(unknownFunction.stderr()).contains("ResourceNotFoundException: Function not found");

    KilnCli.Run unreachable = new KilnCli("http://127.0.0.1:1", accessKey, secretKey, workDir).run("schedules", "list");
    assertThat(unreachable.exitCode()).isEqualTo(1);
    assertThat(unreachable.stderr()).contains("cannot reach Kiln at http://127.0.0.1:1").contains("kiln up");
  }
}
