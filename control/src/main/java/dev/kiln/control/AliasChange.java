package dev.kiln.control;

import java.util.Map;

/**
 * CreateAlias / UpdateAlias input. On update a null field keeps its value; a non-null empty
 * {@code additionalWeights} removes the routing.
 */
public record AliasChange(
    String functionVersion, String description, Map<String, Double> additionalWeights, String revisionId) {}
