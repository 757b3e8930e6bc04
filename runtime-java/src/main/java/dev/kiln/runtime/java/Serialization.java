package dev.kiln.runtime.java;

import com.amazonaws.services.lambda.runtime.CustomPojoSerializer;
import java.io.ByteArrayInputStream;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Turns event JSON into the handler's declared input type and its result into JSON.
 *
 * <p>Plain types (Object, String, Map, List, boxed numbers and booleans) go through the small {@link Json}
 * reader and writer; anything else goes through Jackson ({@link JacksonSupport}), which is loaded only then. A
 * {@link CustomPojoSerializer} found in the function's code (as a service) replaces both, as on Lambda.
 */
final class Serialization {
  interface Reader {
    Object read(byte[] json) throws Exception;
  }

  interface Writer {
    void write(Object value, ResponseBuffer out) throws Exception;
  }

  private final ClassLoader functionLoader;
  private CustomPojoSerializer custom;
  private boolean customLooked;
  private JacksonSupport jackson;

  Serialization(ClassLoader functionLoader) {
    this.functionLoader = functionLoader;
  }

  private CustomPojoSerializer custom() {
    if (!customLooked) {
      customLooked = true;
      Iterator<CustomPojoSerializer> it = ServiceLoader.load(CustomPojoSerializer.class, functionLoader).iterator();
      custom = it.hasNext() ? it.next() : null;
    }
    return custom;
  }

  JacksonSupport jackson() {
    if (jackson == null) {
      jackson = new JacksonSupport(functionLoader);
    }
    return jackson;
  }

  /** A reader for the declared input type; Jackson is prepared now (at init) when the type needs it. */
  Reader readerFor(Type type) {
    CustomPojoSerializer c = custom();
    if (c != null) {
      return json -> c.fromJson(new ByteArrayInputStream(json), type);
    }
    if (isPlain(type)) {
      return new PlainReader(type, this);
    }
    return jackson().reader(type);
  }

  Writer writerFor(Type type) {
    CustomPojoSerializer c = custom();
    if (c != null) {
      return (value, out) -> c.toJson(value, out, type);
    }
    return new PlainOrJacksonWriter(this);
  }

  // ------------------------------------------------------------------------------------- plain values

  private static final class PlainReader implements Reader {
    private final Type type;
    private final Serialization owner;

    PlainReader(Type type, Serialization owner) {
      this.type = type;
      this.owner = owner;
    }

    @Override
    public Object read(byte[] json) throws Exception {
      Object value;
      try {
        value = Json.parse(json);
      } catch (Json.ParseException e) {
        return owner.jackson().read(json, type); // Jackson reports the syntax error in its words
      }
      Object converted = convert(value, type);
      return converted != NO_MATCH ? converted : owner.jackson().read(json, type);
    }
  }

  private static final class PlainOrJacksonWriter implements Writer {
    private final Serialization owner;

    PlainOrJacksonWriter(Serialization owner) {
      this.owner = owner;
    }

    @Override
    public void write(Object value, ResponseBuffer out) throws Exception {
      try {
        Json.write(value, out);
      } catch (Json.UnsupportedValue notPlain) {
        out.reset();
        owner.jackson().write(value, out);
      }
    }
  }

  private static final Object NO_MATCH = new Object();

  /** Whether the type is one the small reader serves (possibly with a Jackson fallback for odd values). */
  static boolean isPlain(Type type) {
    if (type instanceof Class<?> c) {
      return c == Object.class || c == String.class || c == Integer.class || c == int.class || c == Long.class
          || c == long.class || c == Double.class || c == double.class || c == Boolean.class || c == boolean.class
          || isMapClass(c) || isListClass(c);
    }
    if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
      Type[] args = p.getActualTypeArguments();
      if (isMapClass(raw) && args.length == 2) {
        return isObjectLike(args[0]) || args[0] == String.class
            ? isObjectLike(args[1]) || args[1] == String.class
            : false;
      }
      if (isListClass(raw) && args.length == 1) {
        return isObjectLike(args[0]) || args[0] == String.class;
      }
    }
    return false;
  }

  private static boolean isMapClass(Class<?> c) {
    return c.isAssignableFrom(LinkedHashMap.class);
  }

  private static boolean isListClass(Class<?> c) {
    return c.isAssignableFrom(ArrayList.class) && c != Object.class;
  }

  private static boolean isObjectLike(Type t) {
    if (t == Object.class) {
      return true;
    }
    if (t instanceof WildcardType w) {
      Type[] upper = w.getUpperBounds();
      return w.getLowerBounds().length == 0 && (upper.length == 0 || upper[0] == Object.class);
    }
    if (t instanceof TypeVariable<?> v) {
      Type[] bounds = v.getBounds();
      return bounds.length == 0 || bounds[0] == Object.class;
    }
    return false;
  }

  /** The plain value as the declared type, or {@link #NO_MATCH} to let Jackson decide. */
  private static Object convert(Object value, Type type) {
    Class<?> raw = type instanceof Class<?> c ? c : (Class<?>) ((ParameterizedType) type).getRawType();
    if (raw == Object.class) {
      return value;
    }
    if (value == null) {
      return raw.isPrimitive() ? NO_MATCH : null;
    }
    if (raw == String.class) {
      return value instanceof String ? value : NO_MATCH;
    }
    if (raw == Integer.class || raw == int.class) {
      return value instanceof Integer ? value : NO_MATCH;
    }
    if (raw == Long.class || raw == long.class) {
      if (value instanceof Integer i) {
        return (long) i;
      }
      return value instanceof Long ? value : NO_MATCH;
    }
    if (raw == Double.class || raw == double.class) {
      if (value instanceof Integer || value instanceof Long || value instanceof Double) {
        return ((Number) value).doubleValue();
      }
      return NO_MATCH;
    }
    if (raw == Boolean.class || raw == boolean.class) {
      return value instanceof Boolean ? value : NO_MATCH;
    }
    Type[] args = type instanceof ParameterizedType p ? p.getActualTypeArguments() : new Type[0];
    if (isMapClass(raw)) {
      if (!(value instanceof Map<?, ?> map)) {
        return NO_MATCH;
      }
      if (args.length == 2 && args[1] == String.class) {
        for (Object v : map.values()) {
          if (v != null && !(v instanceof String)) {
            return NO_MATCH;
          }
        }
      }
      return value;
    }
    if (isListClass(raw)) {
      if (!(value instanceof Collection<?> list)) {
        return NO_MATCH;
      }
      if (args.length == 1 && args[0] == String.class) {
        for (Object v : list) {
          if (v != null && !(v instanceof String)) {
            return NO_MATCH;
          }
        }
      }
      return value;
    }
    return NO_MATCH;
  }

  static Class<?> rawClass(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return rawClass(p.getRawType());
    }
    if (type instanceof GenericArrayType a) {
      return java.lang.reflect.Array.newInstance(rawClass(a.getGenericComponentType()), 0).getClass();
    }
    if (type instanceof TypeVariable<?> v && v.getBounds().length > 0) {
      return rawClass(v.getBounds()[0]);
    }
    if (type instanceof WildcardType w && w.getUpperBounds().length > 0) {
      return rawClass(w.getUpperBounds()[0]);
    }
    return Object.class;
  }
}
