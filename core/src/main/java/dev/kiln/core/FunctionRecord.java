package dev.kiln.core;

import java.time.Instant;
import java.util.Map;

/**
 * What a function has apart from its versions: its tags and the number its last published version
 * got. Version numbers are never reused, even after that version is deleted, as on Lambda.
 */
public record FunctionRecord(
    String account, String name, Map<String, String> tags, long lastPublishedVersion, Instant createdAt) {
  public FunctionRecord {
    tags = tags == null ? Map.of() : Map.copyOf(tags);
  }

  public FunctionRecord withTags(Map<String, String> newTags) {
    return new FunctionRecord(account, name, newTags, lastPublishedVersion, createdAt);
  }

  public FunctionRecord withLastPublishedVersion(long version) {
    return new FunctionRecord(account, name, tags, version, createdAt);
  }
}
