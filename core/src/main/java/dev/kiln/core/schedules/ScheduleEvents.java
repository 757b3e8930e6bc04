package dev.kiln.core.schedules;

import dev.kiln.core.Region;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * The event a schedule hands its function: the schedule's Input with EventBridge Scheduler's
 * context attributes filled in, or, without an Input, a scheduled-event document like the one
 * EventBridge delivers.
 */
public final class ScheduleEvents {
  public static final String SCHEDULE_ARN = "<aws.scheduler.schedule-arn>";
  public static final String SCHEDULED_TIME = "<aws.scheduler.scheduled-time>";
  public static final String EXECUTION_ID = "<aws.scheduler.execution-id>";
  public static final String ATTEMPT_NUMBER = "<aws.scheduler.attempt-number>";

  private ScheduleEvents() {}

  /** Schedules live in EventBridge Scheduler's default group; Kiln has no other. */
  public static String scheduleArn(Region region, String account, String name) {
    return "arn:aws:scheduler:" + region.name() + ":" + account + ":schedule/default/" + name;
  }

  /**
   * The same for every attempt at one occurrence (also after a restart), so a function can tell a
   * repeated delivery of an occurrence from a new one.
   */
  public static String executionId(String scheduleArn, Instant occurrence) {
    try {
      var digest = MessageDigest.getInstance("SHA-256")
          .digest((scheduleArn + "@" + occurrence.toEpochMilli()).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** The payload of one attempt at one occurrence. */
  public static String payload(ScheduleDefinition schedule, Region region, Instant occurrence, int attempt) {
    String arn = scheduleArn(region, schedule.account(), schedule.name());
    String executionId = executionId(arn, occurrence);
    if (schedule.input() != null) {
      return render(schedule.input(), arn, occurrence, executionId, attempt);
    }
    // Every value below comes from a restricted alphabet (digits, letters, '-', '_', '.', ':', '/'),
    // so none needs JSON escaping.
    return "{\"version\":\"0\",\"id\":\"" + executionId + "\",\"detail-type\":\"Scheduled Event\","
        + "\"source\":\"aws.scheduler\",\"account\":\"" + schedule.account() + "\",\"time\":\"" + occurrence
        + "\",\"region\":\"" + region.name() + "\",\"resources\":[\"" + arn + "\"],\"detail\":{}}";
  }

  /** {@code input} with each context attribute replaced by its value. */
  public static String render(String input, String scheduleArn, Instant scheduledTime, String executionId,
      int attempt) {
    return input.replace(SCHEDULE_ARN, scheduleArn)
        .replace(SCHEDULED_TIME, scheduledTime.toString())
        .replace(EXECUTION_ID, executionId)
        .replace(ATTEMPT_NUMBER, Integer.toString(attempt));
  }
}
