package dev.kiln.control;

import java.util.List;

/** One page of a list operation; {@code nextMarker} is null on the last page. */
public record Page<T>(List<T> items, String nextMarker) {}
