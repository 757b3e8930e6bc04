package dev.kiln.core.schedules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.Region;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ScheduleEventsTest {
  private static final Instant CREATED = Instant.parse("2026-01-10T10:07:00Z");
  private static final Instant NOON = Instant.parse("2026-03-01T12:00:00Z");

  private static ScheduleDefinition withInput(String input) {
    return new ScheduleDefinition("123456789012", "nightly", "cron(0 12 * * ? *)", "UTC", null, null,
        ScheduleState.ENABLED, FlexibleTimeWindow.OFF, "fn", null, input, null, CREATED, CREATED, CREATED);
  }

  @Test
  void scheduleArnsLiveInTheDefaultGroup() {
    assertThat(ScheduleEvents.scheduleArn(new Region("eu-west-1"), "123456789012", "nightly"))
        .isEqualTo("arn:aws:scheduler:eu-west-1:123456789012:schedule/default/nightly");
  }

  @Test
  void withoutInputTheFunctionGetsAScheduledEvent() {
    String payload = ScheduleEvents.payload(withInput(null), Region.DEFAULT, NOON, 1);
    String arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly";
    assertThat(payload).isEqualTo("{\"version\":\"0\",\"id\":\"" + ScheduleEvents.executionId(arn, NOON)
        + "\",\"detail-type\":\"Scheduled Event\",\"source\":\"aws.scheduler\",\"account\":\"123456789012\","
        + "\"time\":\"2026-03-01T12:00:00Z\",\"region\":\"us-east-1\",\"resources\":[\"" + arn + "\"],\"detail\":{}}");
  }

  @Test
  void contextAttributesAreFilledIn() {
    var input = "{\"arn\":\"<aws.scheduler.schedule-arn>\",\"at\":\"<aws.scheduler.scheduled-time>\","
        + "\"id\":\"<aws.scheduler.execution-id>\",\"attempt\":<aws.scheduler.attempt-number>,\"keep\":\"<other>\"}";
    String payload = ScheduleEvents.payload(withInput(input), Region.DEFAULT, NOON, 3);
    String arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly";
    assertThat(payload).isEqualTo("{\"arn\":\"" + arn + "\",\"at\":\"2026-03-01T12:00:00Z\",\"id\":\""
        + ScheduleEvents.executionId(arn, NOON) + "\",\"attempt\":3,\"keep\":\"<other>\"}");
  }

  @Test
  void executionIdsAreStablePerOccurrenceAndDifferBetweenThem() {
    String arn = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly";
    assertThat(ScheduleEvents.executionId(arn, NOON)).hasSize(16).matches("[0-9a-f]+")
        .isEqualTo(ScheduleEvents.executionId(arn, NOON))
        .isNotEqualTo(ScheduleEvents.executionId(arn, NOON.plusSeconds(60)))
        .isNotEqualTo(ScheduleEvents.executionId(arn + "2", NOON));
  }
}
