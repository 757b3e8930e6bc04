package dev.kiln.store;

import dev.kiln.core.AsyncEvent;
import dev.kiln.core.EventInvokeConfig;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The tables of accepted asynchronous invocations (the durable event queue) and each function's
 * event-invoke configuration, inside one {@link StoreTransaction}.
 *
 * <p>An event is due when its next attempt time has come and nobody holds a claim on it. A claim is
 * a lease: the dispatcher that claimed an event either settles it (removes or reschedules it) or,
 * when that dispatcher dies, the claim runs out, or is released when the same node starts again,
 * and the event is delivered again (at least once). Rows go with their function (ON DELETE CASCADE).
 */
public interface AsyncStore {

  /** A function whose events a claim should pass over, because its dispatcher cannot take more of them now. */
  record FunctionKey(String account, String functionName) {}

  /**
   * Adds an accepted event, unclaimed, or already claimed until {@code claimedUntil} by {@code
   * claimedBy} when the accepting node runs it at once (both null otherwise). Returns false,
   * adding nothing, when the function does not exist (any more).
   */
  boolean enqueue(AsyncEvent event, String claimedBy, Instant claimedUntil);

  /**
   * Claims up to {@code limit} events due at {@code now}, oldest due first, for {@code claimedBy}
   * until {@code claimedUntil}, passing over the events of the {@code excluded} functions (a few).
   * Concurrent claimers never get the same event.
   */
  List<AsyncEvent> claimDue(Instant now, String claimedBy, Instant claimedUntil, int limit,
      Collection<FunctionKey> excluded);

  /** Removes a handled event; false when it was gone already (its function was deleted). */
  boolean remove(String requestId);

  /** Releases the claim on an event and makes it due at {@code nextAttemptAt} with this attempt count. */
  void reschedule(String requestId, int attempts, Instant nextAttemptAt);

  /** Releases every claim {@code claimedBy} holds, so those events are due again; returns how many. */
  int releaseClaims(String claimedBy);

  /** Events in the queue, claimed or not. */
  long queued();

  Optional<EventInvokeConfig> config(String account, String functionName, String qualifier);

  /**
   * Inserts or replaces the configuration of {@code config.qualifier()}. A configuration of a
   * function that does not exist is a caller bug: {@link IllegalStateException}.
   */
  void putConfig(String account, String functionName, EventInvokeConfig config);

  /** Returns whether there was a configuration to delete. */
  boolean deleteConfig(String account, String functionName, String qualifier);

  /** A function's configurations ordered by qualifier, starting after {@code afterQualifier} (null: from the start). */
  List<EventInvokeConfig> configs(String account, String functionName, String afterQualifier, int limit);
}
