package dev.kiln.core;

import java.util.Map;

/**
 * A named pointer to a version, optionally splitting traffic: {@code additionalWeights} maps a
 * second version to the share (0.0–1.0) of invocations it gets.
 */
public record Alias(
    String account,
    String functionName,
    String name,
    String functionVersion,
    String description,
    Map<String, Double> additionalWeights,
    String revisionId) {
  public Alias {
    description = description == null ? "" : description;
    additionalWeights = additionalWeights == null ? Map.of() : Map.copyOf(additionalWeights);
  }
}
