package dev.kiln.core;

/**
 * Lambda's states of an event-source mapping. A change through the API moves a mapping into one of
 * the transitional states (Creating, Enabling, Disabling, Updating, Deleting); the poller manager
 * moves it on to Enabled or Disabled, or removes it, once its pollers match.
 */
public enum EventSourceMappingState {
  Creating,
  Enabling,
  Enabled,
  Disabling,
  Disabled,
  Updating,
  Deleting;

  /** Whether the manager still has to act on a mapping in this state. */
  public boolean transitional() {
    return this != Enabled && this != Disabled;
  }
}
