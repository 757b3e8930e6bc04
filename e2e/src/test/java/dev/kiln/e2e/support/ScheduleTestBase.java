package dev.kiln.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import tools.jackson.databind.JsonNode;

/**
 * Helpers for the schedule areas: a function that logs every event it gets, Kiln's schedule API
 * through signed HTTP, and the events a function has logged.
 */
public abstract class ScheduleTestBase extends InvokeTestBase {
  protected static final String SCHEDULES = "/kiln/v1/schedules";
  private static final String EVENT_MARK = "EVENT ";

  /** Logs each event as one line {@code EVENT <json>}. */
  protected static final String EVENT_LOGGER =
      """
      exports.handler = async (event, context) => {
        console.log('EVENT ' + JSON.stringify(event));
        return 'ok';
      };
      """;

  protected String eventLogger(String prefix) {
    return deploy(prefix, "nodejs22.x", "index.handler", Functions.node(EVENT_LOGGER));
  }

  protected SignedHttp.Response createSchedule(String name, String json) {
    return http.send("POST", SCHEDULES + "/" + name, json);
  }

  protected JsonNode createScheduleOk(String name, String json) {
    SignedHttp.Response created = createSchedule(name, json);
    assertThat(created.status()).as("create %s: %s", name, created).isEqualTo(201);
    return created.json();
  }

  protected SignedHttp.Response getSchedule(String name) {
    return http.send("GET", SCHEDULES + "/" + name, (byte[]) null);
  }

  protected JsonNode getScheduleOk(String name) {
    SignedHttp.Response got = getSchedule(name);
    assertThat(got.status()).as("get %s: %s", name, got).isEqualTo(200);
    return got.json();
  }

  protected SignedHttp.Response updateSchedule(String name, String json) {
    return http.send("PUT", SCHEDULES + "/" + name, json);
  }

  protected SignedHttp.Response deleteSchedule(String name) {
    return http.send("DELETE", SCHEDULES + "/" + name, (byte[]) null);
  }

  protected SignedHttp.Response listSchedules(String query) {
    return http.send("GET", SCHEDULES + query, (byte[]) null);
  }

  /** {@code at(...)} for the local time {@code ahead} from now in {@code zone}, to the second. */
  protected static String atFromNow(Duration ahead, ZoneId zone) {
    return "at(" + localTime(Instant.now().plus(ahead), zone) + ")";
  }

  protected static String localTime(Instant instant, ZoneId zone) {
    return LocalDateTime.ofInstant(instant, zone).truncatedTo(ChronoUnit.SECONDS)
        .format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
  }

  /** The instant an {@code at(...)} expression names in {@code zone}. */
  protected static Instant instantOf(String atExpression, ZoneId zone) {
    String local = atExpression.substring(3, atExpression.length() - 1);
    return LocalDateTime.parse(local).atZone(zone).toInstant();
  }

  /** The events a function has logged so far, each with the request id that got it. */
  protected List<LoggedEvent> loggedEvents(String function) {
    List<LoggedEvent> events = new ArrayList<>();
    for (JsonNode line : logEvents(function, 0)) {
      String message = line.path("message").asString();
      int mark = message.indexOf(EVENT_MARK);
      if (mark >= 0) {
        events.add(new LoggedEvent(line.path("requestId").asString(),
            json(message.substring(mark + EVENT_MARK.length()).strip())));
      }
    }
    return events;
  }

  /** Waits (at most 30 s) until the function has logged an event that matches, and returns all that do. */
  protected List<LoggedEvent> awaitEvents(String function, Predicate<JsonNode> matches) {
    List<LoggedEvent> found = new ArrayList<>();
    Awaitility.await("an event of " + function)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          found.clear();
          loggedEvents(function).stream().filter(e -> matches.test(e.event())).forEach(found::add);
          return !found.isEmpty();
        });
    return found;
  }

  /** One event as the function logged it. */
  public record LoggedEvent(String requestId, JsonNode event) {}
}
