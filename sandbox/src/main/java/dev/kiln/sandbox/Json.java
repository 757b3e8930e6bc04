package dev.kiln.sandbox;

import java.util.List;

/** Just enough JSON writing for an OCI config (no library needed for one fixed document). */
final class Json {
  private Json() {}

  static String str(String s) {
    var sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    return sb.append('"').toString();
  }

  static String strs(List<String> values) {
    var sb = new StringBuilder("[");
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) sb.append(',');
      sb.append(str(values.get(i)));
    }
    return sb.append(']').toString();
  }
}
