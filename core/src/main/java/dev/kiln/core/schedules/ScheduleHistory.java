package dev.kiln.core.schedules;

/**
 * What a schedule has done so far; written only by the scheduler.
 *
 * @param lastRun the latest attempt, or null before the first
 * @param invocations occurrences whose invocation was accepted
 * @param failures occurrences Kiln gave up on after retrying
 * @param missed occurrences skipped because Kiln was not running when they were due
 */
public record ScheduleHistory(LastRun lastRun, long invocations, long failures, long missed) {
  public static final ScheduleHistory NONE = new ScheduleHistory(null, 0, 0, 0);

  public ScheduleHistory invoked(LastRun run) {
    return new ScheduleHistory(run, invocations + 1, failures, missed);
  }

  public ScheduleHistory retrying(LastRun run) {
    return new ScheduleHistory(run, invocations, failures, missed);
  }

  public ScheduleHistory failed(LastRun run) {
    return new ScheduleHistory(run, invocations, failures + 1, missed);
  }

  public ScheduleHistory missed(long count) {
    return new ScheduleHistory(lastRun, invocations, failures, missed + count);
  }
}
