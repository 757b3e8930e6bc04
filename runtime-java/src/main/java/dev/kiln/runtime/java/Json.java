package dev.kiln.runtime.java;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader and writer for plain values (maps, lists, strings, numbers, booleans, null).
 *
 * <p>It lets the common handler shapes ({@code RequestHandler<Map<String,Object>,String>} and the like), error
 * bodies and context headers go without loading Jackson, which is the largest part of a Java cold start.
 * Values come out as Jackson's untyped reader makes them: {@link LinkedHashMap}, {@link ArrayList}, String,
 * Integer / Long / BigInteger, Double, Boolean, null.
 */
final class Json {
  private Json() {}

  /** Thrown when a value is outside what this class writes; the caller falls back to Jackson. */
  static final class UnsupportedValue extends Exception {
    UnsupportedValue() {
      super(null, null, false, false);
    }
  }

  static final class ParseException extends Exception {
    ParseException(String message) {
      super(message);
    }
  }

  // ------------------------------------------------------------------------------------------- reading

  static Object parse(byte[] bytes) throws ParseException {
    return parse(new String(bytes, StandardCharsets.UTF_8));
  }

  static Object parse(String text) throws ParseException {
    Reader r = new Reader(text);
    r.skipWhitespace();
    Object value = r.value(0);
    r.skipWhitespace();
    if (r.pos != text.length()) {
      throw r.error("unexpected trailing content");
    }
    return value;
  }

  private static final class Reader {
    private final String s;
    private int pos;

    Reader(String s) {
      this.s = s;
    }

    ParseException error(String what) {
      return new ParseException(what + " at offset " + pos);
    }

    void skipWhitespace() {
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          pos++;
        } else {
          return;
        }
      }
    }

    Object value(int depth) throws ParseException {
      if (depth > 1000) {
        throw error("nesting too deep");
      }
      if (pos >= s.length()) {
        throw error("unexpected end of input");
      }
      char c = s.charAt(pos);
      switch (c) {
        case '{':
          return object(depth);
        case '[':
          return array(depth);
        case '"':
          return string();
        case 't':
          literal("true");
          return Boolean.TRUE;
        case 'f':
          literal("false");
          return Boolean.FALSE;
        case 'n':
          literal("null");
          return null;
        default:
          if (c == '-' || (c >= '0' && c <= '9')) {
            return number();
          }
          throw error("unexpected character '" + c + "'");
      }
    }

    void literal(String word) throws ParseException {
      if (!s.startsWith(word, pos)) {
        throw error("invalid literal");
      }
      pos += word.length();
    }

    Map<String, Object> object(int depth) throws ParseException {
      pos++;
      Map<String, Object> map = new LinkedHashMap<>();
      skipWhitespace();
      if (pos < s.length() && s.charAt(pos) == '}') {
        pos++;
        return map;
      }
      for (; ; ) {
        skipWhitespace();
        if (pos >= s.length() || s.charAt(pos) != '"') {
          throw error("expected a field name");
        }
        String key = string();
        skipWhitespace();
        if (pos >= s.length() || s.charAt(pos) != ':') {
          throw error("expected ':'");
        }
        pos++;
        skipWhitespace();
        map.put(key, value(depth + 1));
        skipWhitespace();
        if (pos >= s.length()) {
          throw error("unexpected end of input");
        }
        char c = s.charAt(pos++);
        if (c == '}') {
          return map;
        }
        if (c != ',') {
          throw error("expected ',' or '}'");
        }
      }
    }

    List<Object> array(int depth) throws ParseException {
      pos++;
      List<Object> list = new ArrayList<>();
      skipWhitespace();
      if (pos < s.length() && s.charAt(pos) == ']') {
        pos++;
        return list;
      }
      for (; ; ) {
        skipWhitespace();
        list.add(value(depth + 1));
        skipWhitespace();
        if (pos >= s.length()) {
          throw error("unexpected end of input");
        }
        char c = s.charAt(pos++);
        if (c == ']') {
          return list;
        }
        if (c != ',') {
          throw error("expected ',' or ']'");
        }
      }
    }

    String string() throws ParseException {
      int start = ++pos;
      StringBuilder b = null;
      for (; ; ) {
        if (pos >= s.length()) {
          throw error("unterminated string");
        }
        char c = s.charAt(pos);
        if (c == '"') {
          String result = b == null ? s.substring(start, pos) : b.append(s, start, pos).toString();
          pos++;
          return result;
        }
        if (c < 0x20) {
          throw error("control character in string");
        }
        if (c == '\\') {
          if (b == null) {
            b = new StringBuilder();
          }
          b.append(s, start, pos);
          if (++pos >= s.length()) {
            throw error("unterminated escape");
          }
          char e = s.charAt(pos++);
          switch (e) {
            case '"', '\\', '/' -> b.append(e);
            case 'b' -> b.append('\b');
            case 'f' -> b.append('\f');
            case 'n' -> b.append('\n');
            case 'r' -> b.append('\r');
            case 't' -> b.append('\t');
            case 'u' -> {
              if (pos + 4 > s.length()) {
                throw error("bad unicode escape");
              }
              try {
                b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
              } catch (NumberFormatException x) {
                throw error("bad unicode escape");
              }
              pos += 4;
            }
            default -> throw error("bad escape");
          }
          start = pos;
        } else {
          pos++;
        }
      }
    }

    Object number() throws ParseException {
      int start = pos;
      boolean integral = true;
      if (s.charAt(pos) == '-') {
        pos++;
      }
      int digits = pos;
      while (pos < s.length()) {
        char c = s.charAt(pos);
        if (c >= '0' && c <= '9') {
          pos++;
        } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
          integral = false;
          pos++;
        } else {
          break;
        }
      }
      if (pos == digits) {
        throw error("invalid number");
      }
      String n = s.substring(start, pos);
      try {
        if (integral) {
          int length = pos - digits;
          if (length <= 9) {
            return Integer.parseInt(n);
          }
          if (length <= 18) {
            long l = Long.parseLong(n);
            return l == (int) l ? (Object) (int) l : (Object) l;
          }
          BigInteger big = new BigInteger(n);
          return big.bitLength() < 64 ? (Object) big.longValue() : big;
        }
        return Double.parseDouble(n);
      } catch (NumberFormatException e) {
        throw error("invalid number");
      }
    }
  }

  // ------------------------------------------------------------------------------------------- writing

  /** Writes {@code value} as JSON; throws {@link UnsupportedValue} (having written part of it) for other types. */
  static void write(Object value, ByteArrayOutputStream out) throws UnsupportedValue {
    StringBuilder b = new StringBuilder(64);
    append(value, b, 0);
    byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
    out.write(bytes, 0, bytes.length);
  }

  static String toJson(Object value) throws UnsupportedValue {
    StringBuilder b = new StringBuilder(64);
    append(value, b, 0);
    return b.toString();
  }

  private static void append(Object value, StringBuilder b, int depth) throws UnsupportedValue {
    if (depth > 1000) {
      throw new UnsupportedValue();
    }
    // An instanceof chain rather than a pattern switch: a type switch bootstraps through invokedynamic, which
    // costs milliseconds on a cold JVM.
    if (value == null) {
      b.append("null");
    } else if (value instanceof String s) {
      quote(s, b);
    } else if (value instanceof Boolean bool) {
      b.append(bool.booleanValue());
    } else if (value instanceof Integer || value instanceof Long || value instanceof Short
        || value instanceof Byte || value instanceof BigInteger) {
      b.append(value.toString());
    } else if (value instanceof BigDecimal dec) {
      b.append(dec.toString());
    } else if (value instanceof Double d) {
      appendDouble(d, b);
    } else if (value instanceof Float f) {
      if (f.isNaN() || f.isInfinite()) {
        quote(f.toString(), b);
      } else {
        b.append(f.floatValue());
      }
    } else if (value instanceof Map<?, ?> map) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new UnsupportedValue();
        }
        if (!first) {
          b.append(',');
        }
        first = false;
        quote(key, b);
        b.append(':');
        append(e.getValue(), b, depth + 1);
      }
      b.append('}');
    } else if (value instanceof Collection<?> list) {
      b.append('[');
      boolean first = true;
      for (Object item : list) {
        if (!first) {
          b.append(',');
        }
        first = false;
        append(item, b, depth + 1);
      }
      b.append(']');
    } else {
      throw new UnsupportedValue();
    }
  }

  private static void appendDouble(Double d, StringBuilder b) {
    if (d.isNaN() || d.isInfinite()) {
      quote(d.toString(), b);
    } else {
      b.append(d.doubleValue());
    }
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  static void quote(String s, StringBuilder b) {
    b.append('"');
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String escape;
      if (c == '"') {
        escape = "\\\"";
      } else if (c == '\\') {
        escape = "\\\\";
      } else if (c < 0x20) {
        escape = switch (c) {
          case '\n' -> "\\n";
          case '\r' -> "\\r";
          case '\t' -> "\\t";
          case '\b' -> "\\b";
          case '\f' -> "\\f";
          default -> "\\u00" + HEX[c >> 4] + HEX[c & 0xf];
        };
      } else {
        continue;
      }
      b.append(s, start, i).append(escape);
      start = i + 1;
    }
    b.append(s, start, s.length()).append('"');
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2);
    quote(s, b);
    return b.toString();
  }
}
