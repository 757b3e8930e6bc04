package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.api.json.Json;
import dev.kiln.api.json.JsonBody;
import dev.kiln.control.ScheduleRequest;
import dev.kiln.control.Schedules;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import dev.kiln.core.schedules.FlexibleTimeWindow;
import dev.kiln.core.schedules.LastRun;
import dev.kiln.core.schedules.Schedule;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Kiln's schedule API, shaped like EventBridge Scheduler's: {@code POST /kiln/v1/schedules/{Name}}
 * creates, {@code GET} reads, {@code PUT} replaces (members left out take their defaults, as with
 * UpdateSchedule), {@code DELETE} deletes, and {@code GET /kiln/v1/schedules} lists with
 * NamePrefix, State, MaxResults and NextToken. Dates go out as ISO-8601 strings and come in as
 * ISO-8601 strings or epoch seconds. Replies add what Kiln knows about the runs: NextInvocation,
 * LastRun and counts.
 */
final class ScheduleRoutes {
  private static final String SCHEDULES = "/kiln/v1/schedules";
  private static final String SCHEDULE = SCHEDULES + "/{Name}";

  private final Schedules schedules;

  ScheduleRoutes(Schedules schedules) {
    this.schedules = schedules;
  }

  void register(Router router) {
    router
        .add("POST", SCHEDULE, this::create)
        .add("GET", SCHEDULES, this::list)
        .add("GET", SCHEDULE, this::get)
        .add("PUT", SCHEDULE, this::update)
        .add("DELETE", SCHEDULE, this::delete);
  }

  private ApiReply create(ApiCall call) {
    var created = schedules.create(call.account(), request(call));
    return ApiReply.json(201, shape(created, true));
  }

  private ApiReply get(ApiCall call) {
    return ApiReply.ok(shape(schedules.get(call.account(), call.path("Name")), false));
  }

  private ApiReply update(ApiCall call) {
    return ApiReply.ok(shape(schedules.update(call.account(), request(call)), true));
  }

  private ApiReply delete(ApiCall call) {
    schedules.delete(call.account(), call.path("Name"));
    return ApiReply.noContent();
  }

  private ApiReply list(ApiCall call) {
    var page = schedules.list(call.account(), call.queryParam("NamePrefix").orElse(null),
        call.queryParam("State").orElse(null), call.queryParam("NextToken").orElse(null),
        call.intQueryParam("MaxResults"));
    var doc = new LinkedHashMap<String, Object>();
    doc.put("Schedules", page.items().stream().map(s -> shape(s, false)).toList());
    if (page.nextMarker() != null) {
      doc.put("NextToken", page.nextMarker());
    }
    return ApiReply.ok(doc);
  }

  private static ScheduleRequest request(ApiCall call) {
    String name = call.path("Name");
    JsonBody body = call.json();
    String bodyName = body.string("Name");
    if (bodyName != null && !bodyName.equals(name)) {
      throw KilnException.invalid("Name in the body ('" + bodyName + "') differs from the name in the path ('" + name
          + "'); leave it out of the body or make them equal.");
    }
    JsonNode tree = call.body().length == 0 ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(call.body());
    var window = body.object("FlexibleTimeWindow");
    var target = body.object("Target");
    if (target == null) {
      throw KilnException.invalid("Target is required: the function to invoke, for example "
          + "{\"Arn\": \"my-function\", \"Input\": \"{\\\"key\\\": \\\"value\\\"}\"}.");
    }
    return new ScheduleRequest(name, body.string("ScheduleExpression"), body.string("ScheduleExpressionTimezone"),
        timestamp(tree, "StartDate"), timestamp(tree, "EndDate"), body.string("State"),
        window == null ? null : window.string("Mode"), window == null ? null : window.integer("MaximumWindowInMinutes"),
        target.string("Arn"), target.string("Input"), body.string("Description"));
  }

  /** A date as EventBridge's clients send it (epoch seconds) or as people write it (ISO-8601 with an offset). */
  private static Instant timestamp(JsonNode body, String member) {
    JsonNode value = body.get(member);
    if (value == null || value.isNull()) {
      return null;
    }
    if (value.isNumber()) {
      double seconds = value.doubleValue();
      if (!(seconds >= 0 && seconds < 7_258_118_400d)) {
        throw KilnException.invalid(member + " must be between 1970 and 2199, not " + value + " epoch seconds.");
      }
      return Instant.ofEpochMilli(Math.round(seconds * 1000));
    }
    if (value.isString()) {
      try {
        return OffsetDateTime.parse(value.asString()).toInstant().truncatedTo(ChronoUnit.MILLIS);
      } catch (DateTimeParseException e) {
        throw KilnException.invalid(member + " '" + value.asString() + "' is not a date: write it as ISO-8601 with "
            + "an offset, such as 2030-01-31T08:00:00Z, or as epoch seconds.");
      }
    }
    throw new KilnException(ErrorCode.InvalidRequestContentException, "Could not parse request body into json: "
        + member + " must be a string or a number, not " + value.getNodeType().name().toLowerCase());
  }

  private Map<String, Object> shape(Schedule schedule, boolean withScheduleArn) {
    var d = schedule.definition();
    var doc = new LinkedHashMap<String, Object>();
    String arn = schedules.arn(d.account(), d.name());
    if (withScheduleArn) {
      doc.put("ScheduleArn", arn);
    }
    doc.put("Arn", arn);
    doc.put("Name", d.name());
    doc.put("GroupName", "default");
    doc.put("ScheduleExpression", d.expression());
    doc.put("ScheduleExpressionTimezone", d.timezone());
    putDate(doc, "StartDate", d.startDate());
    putDate(doc, "EndDate", d.endDate());
    doc.put("State", d.state().name());
    var window = new LinkedHashMap<String, Object>();
    window.put("Mode", d.flexibleTimeWindow().mode().name());
    if (d.flexibleTimeWindow().mode() == FlexibleTimeWindow.Mode.FLEXIBLE) {
      window.put("MaximumWindowInMinutes", d.flexibleTimeWindow().maximumWindowInMinutes());
    }
    doc.put("FlexibleTimeWindow", window);
    var target = new LinkedHashMap<String, Object>();
    target.put("Arn", schedules.targetArn(d));
    if (d.input() != null) {
      target.put("Input", d.input());
    }
    doc.put("Target", target);
    if (d.description() != null) {
      doc.put("Description", d.description());
    }
    putDate(doc, "CreationDate", d.createdAt());
    putDate(doc, "LastModificationDate", d.modifiedAt());
    putDate(doc, "NextInvocation", schedule.dueAt());
    putDate(doc, "NextScheduledTime", schedule.nextOccurrence());
    var history = schedule.history();
    if (history.lastRun() != null) {
      doc.put("LastRun", lastRun(history.lastRun()));
    }
    doc.put("InvocationCount", history.invocations());
    doc.put("FailureCount", history.failures());
    doc.put("MissedCount", history.missed());
    return doc;
  }

  private static Map<String, Object> lastRun(LastRun run) {
    var doc = new LinkedHashMap<String, Object>();
    putDate(doc, "ScheduledTime", run.scheduledTime());
    putDate(doc, "AttemptedAt", run.attemptedAt());
    doc.put("Status", run.status().name());
    if (run.requestId() != null) {
      doc.put("RequestId", run.requestId());
    }
    doc.put("Attempt", run.attempt());
    doc.put("CatchUp", run.catchUp());
    if (run.message() != null) {
      doc.put("Message", run.message());
    }
    return doc;
  }

  private static void putDate(Map<String, Object> doc, String member, Instant instant) {
    if (instant != null) {
      doc.put(member, instant.toString());
    }
  }
}
