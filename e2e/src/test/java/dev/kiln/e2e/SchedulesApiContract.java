package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.kiln.e2e.support.ScheduleTestBase;
import dev.kiln.e2e.support.SignedHttp;
import dev.kiln.e2e.support.Zips;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Kiln's schedule API ({@code /kiln/v1/schedules}) through signed HTTP as a client sends it:
 * create, get, list with paging and filters, full-replace update, delete, Lambda-shaped errors,
 * and schedules going with their function.
 */
abstract class SchedulesApiContract extends ScheduleTestBase {
  private static final String SCHEDULE_ARN_PREFIX = "arn:aws:scheduler:" + REGION + ":" + ACCOUNT + ":schedule/default/";

  private String function() {
    String name = uniqueName("sched-api");
    createActiveFunction(name, Zips.nodeFunction("scheduled"));
    return name;
  }

  @Test
  void a_schedule_is_created_read_replaced_and_deleted() {
    String fn = function();
    String name = uniqueName("noon");
    JsonNode created = createScheduleOk(name, """
        {"ScheduleExpression": "cron(0 12 * * ? *)", "ScheduleExpressionTimezone": "Europe/Berlin",
         "Target": {"Arn": "%s", "Input": "{\\"job\\": \\"report\\"}"}, "Description": "the daily report",
         "FlexibleTimeWindow": {"Mode": "OFF"}}
        """.formatted(arn(fn)));
    assertThat(created.path("ScheduleArn").asString()).isEqualTo(SCHEDULE_ARN_PREFIX + name);
    assertThat(created.path("Arn").asString()).isEqualTo(SCHEDULE_ARN_PREFIX + name);
    assertThat(created.path("Name").asString()).isEqualTo(name);
    assertThat(created.path("GroupName").asString()).isEqualTo("default");
    assertThat(created.path("State").asString()).isEqualTo("ENABLED");
    assertThat(created.path("ScheduleExpressionTimezone").asString()).isEqualTo("Europe/Berlin");
    assertThat(created.path("FlexibleTimeWindow").path("Mode").asString()).isEqualTo("OFF");
    assertThat(created.path("Target").path("Arn").asString()).isEqualTo(arn(fn));
    assertThat(created.path("Target").path("Input").asString()).isEqualTo("{\"job\": \"report\"}");
    assertThat(created.path("Description").asString()).isEqualTo("the daily report");
    Instant creation = Instant.parse(created.path("CreationDate").asString());
    assertThat(creation).isCloseTo(Instant.now(), within(30, ChronoUnit.SECONDS));
    assertThat(created.path("LastModificationDate").asString()).isEqualTo(created.path("CreationDate").asString());
    Instant noonInBerlin = nextNoon(ZoneId.of("Europe/Berlin"), creation);
    assertThat(Instant.parse(created.path("NextInvocation").asString())).isEqualTo(noonInBerlin);
    assertThat(created.path("InvocationCount").asLong()).isZero();
    assertThat(created.path("MissedCount").asLong()).isZero();
    assertThat(created.has("LastRun")).isFalse();

    JsonNode got = getScheduleOk(name);
    assertThat(got.has("ScheduleArn")).as("only create and update answer with ScheduleArn").isFalse();
    assertThat(got.path("NextInvocation")).isEqualTo(created.path("NextInvocation"));
    assertThat(got.path("Target")).isEqualTo(created.path("Target"));

    // A full replace: members left out take their defaults, as with UpdateSchedule.
    SignedHttp.Response replaced = updateSchedule(name, """
        {"ScheduleExpression": "cron(0 12 * * ? *)", "ScheduleExpressionTimezone": "Asia/Tokyo",
         "Target": {"Arn": "%s"}, "State": "ENABLED"}
        """.formatted(fn));
    assertThat(replaced.status()).as("%s", replaced).isEqualTo(200);
    JsonNode updated = replaced.json();
    assertThat(updated.path("ScheduleArn").asString()).isEqualTo(SCHEDULE_ARN_PREFIX + name);
    assertThat(updated.has("Description")).isFalse();
    assertThat(updated.path("Target").has("Input")).isFalse();
    assertThat(updated.path("CreationDate")).isEqualTo(created.path("CreationDate"));
    assertThat(Instant.parse(updated.path("LastModificationDate").asString())).isAfterOrEqualTo(creation);
    assertThat(Instant.parse(updated.path("NextInvocation").asString()))
        .isEqualTo(nextNoon(ZoneId.of("Asia/Tokyo"), Instant.now()));

    SignedHttp.Response disabled = updateSchedule(name, """
        {"ScheduleExpression": "cron(0 12 * * ? *)", "Target": {"Arn": "%s"}, "State": "DISABLED"}
        """.formatted(fn));
    assertThat(disabled.json().path("State").asString()).isEqualTo("DISABLED");
    assertThat(disabled.json().has("NextInvocation")).as("a disabled schedule has none").isFalse();
    assertThat(disabled.json().path("ScheduleExpressionTimezone").asString()).as("the default").isEqualTo("UTC");

    SignedHttp.Response deleted = deleteSchedule(name);
    assertThat(deleted.status()).as("%s", deleted).isEqualTo(204);
    SignedHttp.Response gone = getSchedule(name);
    assertThat(gone.status()).isEqualTo(404);
    assertThat(gone.errorType()).isEqualTo("ResourceNotFoundException");
    assertThat(gone.json().path("message").asString()).contains("Schedule not found").contains(name);
  }

  @Test
  void the_name_may_also_travel_in_the_body_and_dates_as_iso_or_epoch_seconds() {
    String fn = function();
    String name = uniqueName("bounded");
    Instant start = Instant.now().plus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS);
    Instant end = start.plus(Duration.ofDays(30));
    JsonNode created = createScheduleOk(name, """
        {"Name": "%s", "ScheduleExpression": "rate(1 hour)", "StartDate": %d, "EndDate": "%s",
         "Target": {"Arn": "%s"}, "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}}
        """.formatted(name, start.getEpochSecond(), end.atOffset(java.time.ZoneOffset.ofHours(2)), partialArn(fn)));
    assertThat(Instant.parse(created.path("StartDate").asString())).isEqualTo(start);
    assertThat(Instant.parse(created.path("EndDate").asString())).isEqualTo(end);
    assertThat(created.path("NextScheduledTime").asString()).as("a rate starts at its StartDate")
        .isEqualTo(start.toString());
    Instant runAt = Instant.parse(created.path("NextInvocation").asString());
    assertThat(runAt).isBetween(start, start.plus(Duration.ofMinutes(10)));
    assertThat(created.path("FlexibleTimeWindow").path("MaximumWindowInMinutes").asInt()).isEqualTo(10);
    assertThat(getScheduleOk(name).path("NextInvocation").asString()).as("the offset is stable")
        .isEqualTo(created.path("NextInvocation").asString());
  }

  @Test
  void lists_page_by_name_and_filter_by_prefix_and_state() {
    String fn = function();
    String prefix = uniqueName("list");
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String name = prefix + "-" + i;
      names.add(name);
      createScheduleOk(name, """
          {"ScheduleExpression": "rate(%d hours)", "Target": {"Arn": "%s"}, "State": "%s"}
          """.formatted(i + 2, fn, i == 3 ? "DISABLED" : "ENABLED"));
    }
    List<String> paged = new ArrayList<>();
    String token = null;
    int pages = 0;
    do {
      SignedHttp.Response page = listSchedules("?NamePrefix=" + prefix + "&MaxResults=2"
          + (token == null ? "" : "&NextToken=" + token));
      assertThat(page.status()).as("%s", page).isEqualTo(200);
      page.json().path("Schedules").forEach(s -> paged.add(s.path("Name").asString()));
      token = page.json().has("NextToken") ? page.json().path("NextToken").asString() : null;
      pages++;
    } while (token != null);
    assertThat(paged).isEqualTo(names);
    assertThat(pages).isEqualTo(3);

    List<String> disabled = new ArrayList<>();
    listSchedules("?NamePrefix=" + prefix + "&State=DISABLED").json().path("Schedules")
        .forEach(s -> disabled.add(s.path("Name").asString()));
    assertThat(disabled).containsExactly(prefix + "-3");
    assertThat(listSchedules("?NamePrefix=" + uniqueName("nothing")).json().path("Schedules")).isEmpty();
    JsonNode item = listSchedules("?NamePrefix=" + prefix + "-0").json().path("Schedules").get(0);
    assertThat(item.path("Arn").asString()).isEqualTo(SCHEDULE_ARN_PREFIX + prefix + "-0");
    assertThat(item.path("Target").path("Arn").asString()).isEqualTo(arn(fn));
  }

  @Test
  void bad_requests_get_lambdas_error_shape_and_say_what_to_fix() {
    String fn = function();
    String name = uniqueName("errors");
    expectError(createSchedule(name, "{\"ScheduleExpression\": \"cron(0 12 * * * *)\", \"Target\": {\"Arn\": \"" + fn
        + "\"}}"), 400, "InvalidParameterValueException", "put '?' in one of them");
    expectError(createSchedule(name, "{\"ScheduleExpression\": \"rate(1 minutes)\", \"Target\": {\"Arn\": \"" + fn
        + "\"}}"), 400, "InvalidParameterValueException", "rate(1 minute)");
    expectError(createSchedule(name, "{\"ScheduleExpression\": \"cron(0 25 * * ? *)\", \"Target\": {\"Arn\": \"" + fn
        + "\"}}"), 400, "InvalidParameterValueException", "hours field '25'");
    expectError(createSchedule(name, "{\"ScheduleExpression\": \"rate(5 minutes)\"}"), 400,
        "InvalidParameterValueException", "Target is required");
    expectError(createSchedule(name, "{\"ScheduleExpression\": \"rate(5 minutes)\", \"Target\": {\"Arn\": \"nobody\"}}"),
        404, "ResourceNotFoundException", "Function not found");
    expectError(createSchedule(name, "{\"ScheduleExpression\": \"rate(5 minutes)\", \"ScheduleExpressionTimezone\": "
        + "\"Moon/Base\", \"Target\": {\"Arn\": \"" + fn + "\"}}"), 400, "InvalidParameterValueException",
        "not a time zone");
    expectError(createSchedule(name, "{\"ScheduleExpression\": \"rate(5 minutes)\", \"FlexibleTimeWindow\": "
        + "{\"Mode\": \"FLEXIBLE\"}, \"Target\": {\"Arn\": \"" + fn + "\"}}"), 400, "InvalidParameterValueException",
        "MaximumWindowInMinutes");
    expectError(createSchedule(name, "{\"ScheduleExpression\": \"rate(5 minutes)\", \"Target\": {\"Arn\": \"" + fn
        + "\", \"Input\": \"not json\"}}"), 400, "InvalidParameterValueException", "Target.Input must be a JSON document");
    expectError(createSchedule(name, "{\"ScheduleExpression\": \"rate(5 minutes)\", \"StartDate\": \"tomorrow\", "
        + "\"Target\": {\"Arn\": \"" + fn + "\"}}"), 400, "InvalidParameterValueException", "StartDate 'tomorrow'");
    expectError(createSchedule(name, "{\"Name\": \"other\", \"ScheduleExpression\": \"rate(5 minutes)\", \"Target\": "
        + "{\"Arn\": \"" + fn + "\"}}"), 400, "InvalidParameterValueException", "differs from the name in the path");
    expectError(createSchedule("bad%20name", "{\"ScheduleExpression\": \"rate(5 minutes)\", \"Target\": {\"Arn\": \""
        + fn + "\"}}"), 400, "InvalidParameterValueException", "at 'name'");
    expectError(createSchedule(name, "{\"ScheduleExpression\": 5, \"Target\": {\"Arn\": \"" + fn + "\"}}"), 400,
        "InvalidRequestContentException", "ScheduleExpression must be a string");
    expectError(createSchedule(name, "{\"ScheduleExpression\": "), 400, "InvalidRequestContentException",
        "Could not parse request body into json");
    expectError(listSchedules("?MaxResults=0"), 400, "InvalidParameterValueException", "MaxResults");
    expectError(listSchedules("?State=RUNNING"), 400, "InvalidParameterValueException", "State must be");
    assertThat(getSchedule(name).status()).as("nothing was created").isEqualTo(404);

    createScheduleOk(name, "{\"ScheduleExpression\": \"rate(5 minutes)\", \"Target\": {\"Arn\": \"" + fn + "\"}}");
    expectError(createSchedule(name, "{\"ScheduleExpression\": \"rate(6 minutes)\", \"Target\": {\"Arn\": \"" + fn
        + "\"}}"), 409, "ResourceConflictException", "already exists");
    String missing = uniqueName("missing");
    expectError(getSchedule(missing), 404, "ResourceNotFoundException", "Schedule not found");
    expectError(updateSchedule(missing, "{\"ScheduleExpression\": \"rate(5 minutes)\", \"Target\": {\"Arn\": \"" + fn
        + "\"}}"), 404, "ResourceNotFoundException", "Schedule not found");
    expectError(deleteSchedule(missing), 404, "ResourceNotFoundException", "Schedule not found");
  }

  @Test
  void every_call_must_be_signed() {
    SignedHttp.Response unsigned = http.sendRaw(HttpRequest.newBuilder(URI.create(server.endpoint() + SCHEDULES))
        .GET().build());
    assertThat(unsigned.status()).as("%s", unsigned).isEqualTo(403);
  }

  @Test
  void deleting_the_function_deletes_its_schedules() {
    String fn = function();
    String keep = function();
    String a = uniqueName("gone");
    String b = uniqueName("stays");
    createScheduleOk(a, "{\"ScheduleExpression\": \"rate(1 hour)\", \"Target\": {\"Arn\": \"" + fn + "\"}}");
    createScheduleOk(b, "{\"ScheduleExpression\": \"rate(1 hour)\", \"Target\": {\"Arn\": \"" + keep + "\"}}");
    lambda.deleteFunction(r -> r.functionName(fn));
    assertThat(getSchedule(a).status()).isEqualTo(404);
    assertThat(getSchedule(b).status()).isEqualTo(200);
  }

  private static void expectError(SignedHttp.Response response, int status, String type, String fragment) {
    assertThat(response.status()).as("%s", response).isEqualTo(status);
    assertThat(response.errorType()).as("%s", response).isEqualTo(type);
    assertThat(response.json().path("Type").asString()).isEqualTo("User");
    assertThat(response.json().path("message").asString()).as("%s", response).contains(fragment);
  }

  private static Instant nextNoon(ZoneId zone, Instant after) {
    ZonedDateTime noon = after.atZone(zone).withHour(12).truncatedTo(ChronoUnit.HOURS);
    return noon.toInstant().isBefore(after) ? noon.plusDays(1).toInstant() : noon.toInstant();
  }
}
