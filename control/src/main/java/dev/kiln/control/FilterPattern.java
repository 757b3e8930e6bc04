package dev.kiln.control;

import dev.kiln.core.KilnException;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One filter pattern of an event-source mapping, in the EventBridge syntax Lambda accepts: a JSON
 * object whose members either nest (an object) or list what the record's value may be (an array,
 * any entry matching). Entries are exact values (string, number, boolean, null) or one-operator
 * objects: {@code prefix}, {@code suffix}, {@code equals-ignore-case}, {@code numeric} ranges,
 * {@code exists} and {@code anything-but}. Every member of a pattern must match; a record value
 * that is an array matches when any of its elements does.
 */
public final class FilterPattern {
  /** Lambda's limit on one pattern's length. */
  static final int MAX_LENGTH = 4096;
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Set<String> STRING_OPERATORS = Set.of("prefix", "suffix", "equals-ignore-case");
  private static final Set<String> LOWER_BOUNDS = Set.of(">", ">=");
  private static final Set<String> UPPER_BOUNDS = Set.of("<", "<=");

  private final String text;
  private final ObjectNode pattern;

  private FilterPattern(String text, ObjectNode pattern) {
    this.text = text;
    this.pattern = pattern;
  }

  /** Parses and checks a pattern as CreateEventSourceMapping receives it. */
  public static FilterPattern parse(String text) {
    if (text == null || text.isBlank()) {
      throw invalid(text, "a pattern must be a JSON object such as {\"body\":{\"kind\":[\"order\"]}}");
    }
    if (text.length() > MAX_LENGTH) {
      throw invalid(text, "a pattern may be at most " + MAX_LENGTH + " characters long");
    }
    JsonNode tree;
    try {
      tree = JSON.readTree(text);
    } catch (JacksonException e) {
      throw invalid(text, "it is not valid JSON (" + e.getOriginalMessage() + ")");
    }
    if (!(tree instanceof ObjectNode object) || object.isEmpty()) {
      throw invalid(text, "a pattern must be a non-empty JSON object");
    }
    checkObject(text, object);
    return new FilterPattern(text, object);
  }

  public String text() {
    return text;
  }

  /** Whether the record (a JSON object) passes this pattern. */
  public boolean matches(JsonNode record) {
    return matchesObject(pattern, record);
  }

  // ---- checking ---------------------------------------------------------------------------

  private static void checkObject(String text, ObjectNode object) {
    for (Map.Entry<String, JsonNode> member : object.properties()) {
      var value = member.getValue();
      if (value instanceof ObjectNode nested) {
        if (nested.isEmpty()) {
          throw invalid(text, "\"" + member.getKey() + "\" is an empty object");
        }
        checkObject(text, nested);
      } else if (value instanceof ArrayNode matchers) {
        if (matchers.isEmpty()) {
          throw invalid(text, "\"" + member.getKey() + "\" lists no values to match");
        }
        for (var matcher : matchers) {
          checkMatcher(text, member.getKey(), matcher);
        }
      } else {
        throw invalid(text, "the value of \"" + member.getKey() + "\" must be an array of matches or a nested "
            + "object, e.g. \"" + member.getKey() + "\": [" + value + "]");
      }
    }
  }

  private static void checkMatcher(String text, String key, JsonNode matcher) {
    if (matcher.isNull() || matcher.isString() || matcher.isNumber() || matcher.isBoolean()) {
      return;
    }
    if (!(matcher instanceof ObjectNode operator) || operator.size() != 1) {
      throw invalid(text, "each match of \"" + key + "\" must be a value or an object with one operator");
    }
    var entry = operator.properties().iterator().next();
    var name = entry.getKey();
    var argument = entry.getValue();
    switch (name) {
      case "prefix", "suffix", "equals-ignore-case" -> {
        if (!argument.isString()) {
          throw invalid(text, "\"" + name + "\" takes a string");
        }
      }
      case "exists" -> {
        if (!argument.isBoolean()) {
          throw invalid(text, "\"exists\" takes true or false");
        }
      }
      case "numeric" -> checkNumeric(text, argument);
      case "anything-but" -> checkAnythingBut(text, argument);
      default -> throw invalid(text, "\"" + name + "\" is not an operator Kiln knows (prefix, suffix, "
          + "equals-ignore-case, numeric, exists, anything-but)");
    }
  }

  private static void checkNumeric(String text, JsonNode argument) {
    if (!(argument instanceof ArrayNode range) || (range.size() != 2 && range.size() != 4)) {
      throw invalid(text, "\"numeric\" takes [operator, number] or [\">\", low, \"<\", high]");
    }
    for (int i = 0; i < range.size(); i += 2) {
      var operator = range.get(i);
      if (!operator.isString() || !range.get(i + 1).isNumber()) {
        throw invalid(text, "\"numeric\" takes operator and number pairs, e.g. [\">=\", 0, \"<\", 10]");
      }
      var op = operator.asString();
      boolean allowed = range.size() == 2
          ? op.equals("=") || LOWER_BOUNDS.contains(op) || UPPER_BOUNDS.contains(op)
          : (i == 0 ? LOWER_BOUNDS.contains(op) : UPPER_BOUNDS.contains(op));
      if (!allowed) {
        throw invalid(text, "\"numeric\" operator \"" + op + "\" is not allowed there (=, <, <=, >, >=; a range "
            + "goes from > or >= to < or <=)");
      }
    }
  }

  private static void checkAnythingBut(String text, JsonNode argument) {
    if (argument.isString() || argument.isNumber() || argument.isBoolean()) {
      return;
    }
    if (argument instanceof ArrayNode values && !values.isEmpty()) {
      for (var value : values) {
        if (!value.isString() && !value.isNumber() && !value.isBoolean()) {
          throw invalid(text, "\"anything-but\" lists plain values only");
        }
      }
      return;
    }
    if (argument instanceof ObjectNode operator && operator.size() == 1) {
      var entry = operator.properties().iterator().next();
      if (STRING_OPERATORS.contains(entry.getKey()) && entry.getValue().isString()) {
        return;
      }
    }
    throw invalid(text, "\"anything-but\" takes a value, a list of values, or {\"prefix\": ...}");
  }

  private static KilnException invalid(String text, String why) {
    return KilnException.invalid("Invalid filter pattern definition: " + why + ". Pattern: " + text);
  }

  // ---- matching ---------------------------------------------------------------------------

  private static boolean matchesObject(ObjectNode pattern, JsonNode record) {
    for (Map.Entry<String, JsonNode> member : pattern.properties()) {
      JsonNode value = record != null && record.isObject() ? record.get(member.getKey()) : null;
      boolean matched = member.getValue() instanceof ObjectNode nested
          ? value != null && value.isObject() && matchesObject(nested, value)
          : matchesAny((ArrayNode) member.getValue(), value);
      if (!matched) {
        return false;
      }
    }
    return true;
  }

  /** {@code value} is null when the record has no such member. */
  private static boolean matchesAny(ArrayNode matchers, JsonNode value) {
    for (var matcher : matchers) {
      if (matcher instanceof ObjectNode operator && operator.has("exists")) {
        if (operator.get("exists").booleanValue() == (value != null)) {
          return true;
        }
        continue;
      }
      if (value == null) {
        continue;
      }
      if (value.isArray()) {
        for (var element : value) {
          if (matchesValue(matcher, element)) {
            return true;
          }
        }
      } else if (matchesValue(matcher, value)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matchesValue(JsonNode matcher, JsonNode value) {
    if (!(matcher instanceof ObjectNode operator)) {
      return equal(matcher, value);
    }
    var entry = operator.properties().iterator().next();
    var argument = entry.getValue();
    return switch (entry.getKey()) {
      case "prefix", "suffix", "equals-ignore-case" -> stringMatch(entry.getKey(), argument.asString(), value);
      case "numeric" -> value.isNumber() && inRange((ArrayNode) argument, value.decimalValue());
      case "anything-but" -> anythingBut(argument, value);
      default -> false;
    };
  }

  private static boolean stringMatch(String operator, String argument, JsonNode value) {
    if (!value.isString()) {
      return false;
    }
    var text = value.asString();
    return switch (operator) {
      case "prefix" -> text.startsWith(argument);
      case "suffix" -> text.endsWith(argument);
      default -> text.equalsIgnoreCase(argument);
    };
  }

  private static boolean anythingBut(JsonNode argument, JsonNode value) {
    if (argument instanceof ObjectNode operator) {
      var entry = operator.properties().iterator().next();
      return value.isString() && !stringMatch(entry.getKey(), entry.getValue().asString(), value);
    }
    if (argument instanceof ArrayNode excluded) {
      for (var each : excluded) {
        if (equal(each, value)) {
          return false;
        }
      }
      return true;
    }
    return !equal(argument, value);
  }

  private static boolean equal(JsonNode expected, JsonNode value) {
    if (expected.isNumber()) {
      return value.isNumber() && expected.decimalValue().compareTo(value.decimalValue()) == 0;
    }
    if (expected.isNull()) {
      return value.isNull();
    }
    return expected.equals(value);
  }

  private static boolean inRange(ArrayNode range, BigDecimal number) {
    for (int i = 0; i < range.size(); i += 2) {
      int comparison = number.compareTo(range.get(i + 1).decimalValue());
      boolean holds = switch (range.get(i).asString()) {
        case "=" -> comparison == 0;
        case "<" -> comparison < 0;
        case "<=" -> comparison <= 0;
        case ">" -> comparison > 0;
        default -> comparison >= 0;
      };
      if (!holds) {
        return false;
      }
    }
    return true;
  }
}
