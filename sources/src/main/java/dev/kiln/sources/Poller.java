package dev.kiln.sources;

import dev.kiln.core.EventSourceMapping;

/** The pollers of one event-source mapping, running from their start until {@link #close}. */
public interface Poller extends AutoCloseable {

  /** The settings it runs with ({@link EventSourceMapping#pollerSettings()}). */
  EventSourceMapping settings();

  /**
   * Stops polling; batches in flight get a short grace to finish (and be acknowledged) before they
   * are abandoned, to be delivered again.
   */
  @Override
  void close();
}
