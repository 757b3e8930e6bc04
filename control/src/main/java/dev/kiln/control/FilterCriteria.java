package dev.kiln.control;

import dev.kiln.core.KilnException;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** A mapping's FilterCriteria: a record passes when there are no patterns or any of them matches. */
public record FilterCriteria(List<FilterPattern> patterns) {
  /** Lambda's default quota of filters per event-source mapping. */
  static final int MAX_FILTERS = 5;

  public FilterCriteria {
    patterns = List.copyOf(patterns);
  }

  /** Parses stored or requested pattern texts, refusing invalid ones as Lambda does. */
  public static FilterCriteria of(List<String> texts) {
    if (texts.size() > MAX_FILTERS) {
      throw KilnException.invalid("FilterCriteria may hold at most " + MAX_FILTERS + " filters; " + texts.size()
          + " were given. Combine patterns or split the work over several mappings.");
    }
    return new FilterCriteria(texts.stream().map(FilterPattern::parse).toList());
  }

  public boolean passes(JsonNode record) {
    if (patterns.isEmpty()) {
      return true;
    }
    for (var pattern : patterns) {
      if (pattern.matches(record)) {
        return true;
      }
    }
    return false;
  }
}
