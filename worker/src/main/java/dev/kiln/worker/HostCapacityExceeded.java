package dev.kiln.worker;

/** The node's memory budget is full of busy or provisioned environments: no new one fits now. */
public final class HostCapacityExceeded extends RuntimeException {
  public HostCapacityExceeded(String message) {
    super(message, null, false, false);
  }
}
