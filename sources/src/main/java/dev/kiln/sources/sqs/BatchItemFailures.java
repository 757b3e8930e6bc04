package dev.kiln.sources.sqs;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Reads a function's partial batch response ({@code {"batchItemFailures":[{"itemIdentifier":id}]}})
 * the way Lambda does: no response, an empty or null list or no such member mean every message
 * succeeded; anything malformed (not JSON, not an object, an entry without a known message ID)
 * fails the whole batch.
 */
final class BatchItemFailures {
  private BatchItemFailures() {}

  /** The IDs of the messages that failed, or empty when the whole batch counts as failed. */
  static Optional<Set<String>> failed(byte[] response, Set<String> batchIds) {
    var text = new String(response, StandardCharsets.UTF_8).strip();
    if (text.isEmpty()) {
      return Optional.of(Set.of());
    }
    JsonNode document;
    try {
      document = SqsEvents.JSON.readTree(text);
    } catch (JacksonException e) {
      return Optional.empty();
    }
    if (document == null || document.isNull()) {
      return Optional.of(Set.of());
    }
    if (!document.isObject()) {
      return Optional.empty();
    }
    var failures = document.get("batchItemFailures");
    if (failures == null || failures.isNull()) {
      return Optional.of(Set.of());
    }
    if (!failures.isArray()) {
      return Optional.empty();
    }
    var ids = new HashSet<String>();
    for (var failure : failures) {
      var id = failure.isObject() ? failure.get("itemIdentifier") : null;
      if (id == null || !id.isString() || !batchIds.contains(id.asString())) {
        return Optional.empty();
      }
      ids.add(id.asString());
    }
    return Optional.of(ids);
  }
}
