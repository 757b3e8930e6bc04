package dev.kiln.runtime.java;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HandlerLoaderTest {
  abstract static class Base<T, R> implements RequestHandler<T, R> {}

  abstract static class Middle<T> extends Base<T, List<String>> {}

  static final class Concrete extends Middle<Map<String, Integer>> {
    @Override
    public List<String> handleRequest(Map<String, Integer> input, Context context) {
      return List.of();
    }
  }

  static final class Raw implements RequestHandler {
    @Override
    public Object handleRequest(Object input, Context context) {
      return input;
    }
  }

  @Test
  void resolvesTypeArgumentsThroughGenericSuperclasses() {
    Type[] types = HandlerLoader.typeArguments(Concrete.class, RequestHandler.class);
    assertThat(types).hasSize(2);
    assertThat(types[0]).isInstanceOf(ParameterizedType.class);
    assertThat(types[0].getTypeName()).isEqualTo("java.util.Map<java.lang.String, java.lang.Integer>");
    assertThat(types[1].getTypeName()).isEqualTo("java.util.List<java.lang.String>");
    assertThat(HandlerLoader.typeArguments(Raw.class, RequestHandler.class)).isNull();
  }

  @SuppressWarnings("unused")
  private static void shapes(Map<String, Object> a, Map<String, String> b, Map<String, List<String>> c,
      List<Object> d, List<Integer> e, Object f, String g, int h, Map<?, ?> i) {}

  @Test
  void plainTypesSkipJackson() throws Exception {
    Type[] t = HandlerLoaderTest.class.getDeclaredMethod("shapes", Map.class, Map.class, Map.class, List.class,
        List.class, Object.class, String.class, int.class, Map.class).getGenericParameterTypes();
    assertThat(Serialization.isPlain(t[0])).isTrue();
    assertThat(Serialization.isPlain(t[1])).isTrue();
    assertThat(Serialization.isPlain(t[2])).isFalse();
    assertThat(Serialization.isPlain(t[3])).isTrue();
    assertThat(Serialization.isPlain(t[4])).isFalse();
    assertThat(Serialization.isPlain(t[5])).isTrue();
    assertThat(Serialization.isPlain(t[6])).isTrue();
    assertThat(Serialization.isPlain(t[7])).isTrue();
    assertThat(Serialization.isPlain(t[8])).isTrue();
  }

  @Test
  void plainReaderFallsBackToJacksonForValuesItCannotType() throws Exception {
    Serialization s = new Serialization(getClass().getClassLoader());
    Type mapOfStrings = HandlerLoaderTest.class.getDeclaredMethod("shapes", Map.class, Map.class, Map.class,
        List.class, List.class, Object.class, String.class, int.class, Map.class).getGenericParameterTypes()[1];
    // Jackson coerces the number to a string where the declared type asks for one
    assertThat(s.readerFor(mapOfStrings).read("{\"a\":1}".getBytes())).isEqualTo(Map.of("a", "1"));
    assertThat(s.readerFor(long.class).read("5".getBytes())).isEqualTo(5L);
    assertThat(s.readerFor(String.class).read("\"x\"".getBytes())).isEqualTo("x");
  }
}
