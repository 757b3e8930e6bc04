package dev.kiln.store;

import dev.kiln.core.EventSourceMapping;
import java.util.List;
import java.util.Optional;

/**
 * The table of event-source mappings, inside one {@link StoreTransaction}. Kafka positions are kept
 * by the cluster (the mapping's consumer group), so this section holds the mappings only.
 */
public interface EventSourceMappingStore {

  /**
   * Adds a mapping.
   *
   * @throws DuplicateKeyException when the UUID exists, or the function (with the same qualifier)
   *     already has a mapping of the same source
   * @throws IllegalStateException when the function does not exist
   */
  void insert(EventSourceMapping mapping);

  /** The account's mapping; in a write transaction its row stays locked until commit. */
  Optional<EventSourceMapping> mapping(String account, String uuid);

  /**
   * Replaces a mapping (identified by account and UUID) with a new version of itself.
   *
   * @throws DuplicateKeyException when the change points it at a function and source another mapping has
   * @throws IllegalStateException when the mapping does not exist
   */
  void update(EventSourceMapping mapping);

  /** Removes a mapping; whether there was one. */
  boolean delete(String account, String uuid);

  /**
   * The account's mappings in UUID order, starting after {@code afterUuid} (null: from the start),
   * only those of {@code functionName} (null: any; with {@code qualifier} null meaning any of its
   * qualifiers) and of {@code eventSourceArn} (null: any).
   */
  List<EventSourceMapping> mappings(
      String account, String functionName, String qualifier, String eventSourceArn, String afterUuid, int limit);

  /** Every mapping of every account, in UUID order: what the pollers must match. */
  List<EventSourceMapping> all();
}
