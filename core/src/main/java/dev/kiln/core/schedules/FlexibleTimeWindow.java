package dev.kiln.core.schedules;

import dev.kiln.core.KilnException;
import java.time.Duration;

/**
 * EventBridge Scheduler's FlexibleTimeWindow: with {@code FLEXIBLE}, each occurrence runs at a
 * random moment up to {@code maximumWindowInMinutes} after its scheduled time, which spreads the
 * load of many schedules that share a time.
 *
 * @param maximumWindowInMinutes 1-1440 with FLEXIBLE; null with OFF
 */
public record FlexibleTimeWindow(Mode mode, Integer maximumWindowInMinutes) {
  public static final int MAX_WINDOW_MINUTES = 1440;
  public static final FlexibleTimeWindow OFF = new FlexibleTimeWindow(Mode.OFF, null);

  public enum Mode {
    OFF,
    FLEXIBLE
  }

  public FlexibleTimeWindow {
    if (mode == null) {
      throw KilnException.invalid("FlexibleTimeWindow.Mode must be OFF or FLEXIBLE.");
    }
    if (mode == Mode.OFF && maximumWindowInMinutes != null) {
      throw KilnException.invalid("FlexibleTimeWindow.MaximumWindowInMinutes is only allowed with Mode FLEXIBLE; "
          + "drop it or set Mode to FLEXIBLE.");
    }
    if (mode == Mode.FLEXIBLE && (maximumWindowInMinutes == null || maximumWindowInMinutes < 1
        || maximumWindowInMinutes > MAX_WINDOW_MINUTES)) {
      throw KilnException.invalid("FlexibleTimeWindow.MaximumWindowInMinutes must be from 1 to " + MAX_WINDOW_MINUTES
          + " with Mode FLEXIBLE, not " + maximumWindowInMinutes + ".");
    }
  }

  /** How long after its scheduled time an occurrence may run; zero when OFF. */
  public Duration window() {
    return mode == Mode.OFF ? Duration.ZERO : Duration.ofMinutes(maximumWindowInMinutes);
  }
}
