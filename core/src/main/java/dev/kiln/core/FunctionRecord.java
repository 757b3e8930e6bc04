package dev.kiln.core;

import java.time.Instant;
import java.util.Map;

/**
 * What a function has apart from its versions: its tags, the number its last published version got
 * (version numbers are never reused, even after that version is deleted, as on Lambda) and its
 * reserved concurrency (null when it has none) and its provisioned-concurrency configurations by
 * qualifier.
 */
public record FunctionRecord(
    String account, String name, Map<String, String> tags, long lastPublishedVersion, Instant createdAt,
    Integer reservedConcurrency, Map<String, ProvisionedConcurrency> provisioned) {
  public FunctionRecord {
    tags = tags == null ? Map.of() : Map.copyOf(tags);
    provisioned = provisioned == null ? Map.of() : Map.copyOf(provisioned);
  }

  public FunctionRecord(String account, String name, Map<String, String> tags, long lastPublishedVersion,
      Instant createdAt) {
    this(account, name, tags, lastPublishedVersion, createdAt, null, Map.of());
  }

  public FunctionRecord withTags(Map<String, String> newTags) {
    return new FunctionRecord(account, name, newTags, lastPublishedVersion, createdAt, reservedConcurrency,
        provisioned);
  }

  public FunctionRecord withLastPublishedVersion(long version) {
    return new FunctionRecord(account, name, tags, version, createdAt, reservedConcurrency, provisioned);
  }

  public FunctionRecord withReservedConcurrency(Integer reserved) {
    return new FunctionRecord(account, name, tags, lastPublishedVersion, createdAt, reserved, provisioned);
  }

  /** With the provisioned-concurrency configurations by qualifier replaced. */
  public FunctionRecord withProvisioned(Map<String, ProvisionedConcurrency> configs) {
    return new FunctionRecord(account, name, tags, lastPublishedVersion, createdAt, reservedConcurrency, configs);
  }
}
