package dev.kiln.runtime.java;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.OutputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.PropertyName;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.cfg.MapperConfig;
import tools.jackson.databind.introspect.Annotated;
import tools.jackson.databind.introspect.AnnotatedField;
import tools.jackson.databind.introspect.AnnotatedMethod;
import tools.jackson.databind.introspect.JacksonAnnotationIntrospector;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.ser.std.ToStringSerializer;

/**
 * Jackson (3) for POJO events and results, set up to read the JSON Lambda's event sources send into the
 * classes of {@code aws-lambda-java-events} and the function's own classes:
 *
 * <ul>
 *   <li>property names match case-insensitively ({@code "Records"} → {@code setRecords}, {@code "eventSourceARN"}
 *       → {@code setEventSourceArn});
 *   <li>every camelCase property also answers to its kebab-case and snake_case spelling
 *       ({@code "detail-type"} → {@code setDetailType});
 *   <li>unknown properties are ignored, nulls are left out of results (as Lambda's serializer does);
 *   <li>Joda-Time {@code DateTime} (used by several event classes) is read from ISO text or epoch millis when
 *       the function bundles Joda-Time.
 * </ul>
 */
final class JacksonSupport {
  private final JsonMapper mapper;

  JacksonSupport(ClassLoader functionLoader) {
    JsonMapper.Builder builder = JsonMapper.builder()
        .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
        .disable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
        .changeDefaultPropertyInclusion(JacksonSupport::nonNull)
        .annotationIntrospector(new LenientNames());
    SimpleModule dates = new SimpleModule("kiln-event-dates");
    dates.addDeserializer(Date.class, new EventDateDeserializer());
    builder.addModule(dates);
    SimpleModule joda = jodaModule(functionLoader);
    if (joda != null) {
      builder.addModule(joda);
    }
    this.mapper = builder.build();
  }

  private static JsonInclude.Value nonNull(JsonInclude.Value inclusion) {
    return inclusion.withValueInclusion(JsonInclude.Include.NON_NULL);
  }

  JsonMapper mapper() {
    return mapper;
  }

  JavaType type(Type type) {
    return mapper.getTypeFactory().constructType(type);
  }

  Serialization.Reader reader(Type type) {
    ObjectReader reader = mapper.readerFor(type(type)); // builds the deserializer now, during init
    return json -> {
      try {
        return reader.readValue(json);
      } catch (JacksonException e) {
        throw parsingError(e);
      }
    };
  }

  Object read(byte[] json, Type type) {
    try {
      return mapper.readValue(json, type(type));
    } catch (JacksonException e) {
      throw parsingError(e);
    }
  }

  void write(Object value, OutputStream out) {
    try {
      mapper.writeValue(out, value);
    } catch (JacksonException e) {
      throw new RuntimeException("An error occurred during JSON serialization of response: "
          + e.getOriginalMessage(), e);
    }
  }

  private static RuntimeException parsingError(JacksonException e) {
    return new RuntimeException("An error occurred during JSON parsing: " + e.getOriginalMessage(), e);
  }

  /** Adds kebab-case and snake_case aliases to camelCase properties. */
  static final class LenientNames extends JacksonAnnotationIntrospector {
    private static final long serialVersionUID = 1L;

    @Override
    public List<PropertyName> findPropertyAliases(MapperConfig<?> config, Annotated a) {
      List<PropertyName> declared = super.findPropertyAliases(config, a);
      String name = impliedName(a);
      if (name == null) {
        return declared;
      }
      String kebab = separated(name, '-');
      if (kebab == null) {
        return declared;
      }
      List<PropertyName> aliases = declared == null ? new ArrayList<>(2) : new ArrayList<>(declared);
      aliases.add(PropertyName.construct(kebab));
      aliases.add(PropertyName.construct(kebab.replace('-', '_')));
      return aliases;
    }

    private static String impliedName(Annotated a) {
      if (a instanceof AnnotatedField f) {
        return f.getName();
      }
      if (a instanceof AnnotatedMethod m && m.getParameterCount() == 1) {
        String n = m.getName();
        if (n.length() > 3 && n.startsWith("set")) {
          return Character.toLowerCase(n.charAt(3)) + n.substring(4);
        }
      }
      return null;
    }

    /** "detailType" → "detail-type"; null when the name has no inner capital. */
    static String separated(String name, char separator) {
      StringBuilder b = null;
      for (int i = 0; i < name.length(); i++) {
        char c = name.charAt(i);
        if (i > 0 && Character.isUpperCase(c) && !Character.isUpperCase(name.charAt(i - 1))) {
          if (b == null) {
            b = new StringBuilder(name.length() + 4).append(name, 0, i);
          }
          b.append(separator).append(Character.toLowerCase(c));
        } else if (b != null) {
          b.append(Character.toLowerCase(c));
        }
      }
      return b == null ? null : b.toString();
    }
  }

  // ------------------------------------------------------------------------------------- dates

  /**
   * Event sources write instants as epoch seconds (Kinesis {@code approximateArrivalTimestamp: 1545084650.987},
   * DynamoDB Streams {@code ApproximateCreationDateTime: 1479499740}); Jackson reads numbers as epoch millis.
   * Numbers with a fraction, and integers too small to be a millisecond timestamp after 1973 (below 10^11),
   * are taken as seconds; other numbers as millis; text as Jackson parses dates.
   */
  static Date epochDate(double value, boolean fractional) {
    boolean seconds = fractional || Math.abs(value) < 1e11;
    return new Date(seconds ? Math.round(value * 1000) : (long) value);
  }

  private static final class EventDateDeserializer extends ValueDeserializer<Date> {
    @Override
    public Date deserialize(JsonParser p, DeserializationContext ctxt) {
      JsonToken t = p.currentToken();
      if (t == JsonToken.VALUE_NUMBER_INT) {
        return epochDate(p.getLongValue(), false);
      }
      if (t == JsonToken.VALUE_NUMBER_FLOAT) {
        return epochDate(p.getDoubleValue(), true);
      }
      String text = p.getValueAsString();
      if (text == null || text.isBlank()) {
        return null;
      }
      text = text.trim();
      try {
        return text.indexOf('.') >= 0 ? epochDate(Double.parseDouble(text), true)
            : epochDate(Long.parseLong(text), false);
      } catch (NumberFormatException notANumber) {
        try {
          return ctxt.parseDate(text);
        } catch (IllegalArgumentException e) {
          return (Date) ctxt.handleWeirdStringValue(Date.class, text, "not a date: %s", e.getMessage());
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------- Joda-Time

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static SimpleModule jodaModule(ClassLoader functionLoader) {
    Class<?> dateTime;
    try {
      dateTime = Class.forName("org.joda.time.DateTime", false, functionLoader);
    } catch (ClassNotFoundException | LinkageError e) {
      return null;
    }
    try {
      MethodHandles.Lookup lookup = MethodHandles.publicLookup();
      MethodHandle parse = lookup.findStatic(dateTime, "parse", MethodType.methodType(dateTime, String.class));
      MethodHandle fromMillis = lookup.findConstructor(dateTime, MethodType.methodType(void.class, long.class));
      SimpleModule module = new SimpleModule("kiln-joda-time");
      module.addDeserializer((Class) dateTime, new JodaDateTimeDeserializer(parse, fromMillis));
      module.addSerializer((Class) dateTime, ToStringSerializer.instance);
      return module;
    } catch (ReflectiveOperationException e) {
      return null;
    }
  }

  private static final class JodaDateTimeDeserializer extends ValueDeserializer<Object> {
    private final MethodHandle parse;
    private final MethodHandle fromMillis;

    JodaDateTimeDeserializer(MethodHandle parse, MethodHandle fromMillis) {
      this.parse = parse;
      this.fromMillis = fromMillis;
    }

    @Override
    public Object deserialize(JsonParser p, DeserializationContext ctxt) {
      try {
        if (p.currentToken() == JsonToken.VALUE_NUMBER_INT) {
          return fromMillis.invoke(p.getLongValue());
        }
        String text = p.getValueAsString();
        return text == null || text.isEmpty() ? null : parse.invoke(text);
      } catch (JacksonException e) {
        throw e;
      } catch (Throwable t) {
        return ctxt.handleWeirdStringValue(Object.class, p.getValueAsString(), "not a date-time: %s", t);
      }
    }
  }
}
