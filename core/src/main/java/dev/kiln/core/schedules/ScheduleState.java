package dev.kiln.core.schedules;

/** Whether a schedule runs; a disabled one keeps its definition and history but never fires. */
public enum ScheduleState {
  ENABLED,
  DISABLED
}
