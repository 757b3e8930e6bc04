package dev.kiln.runtime.java;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class JsonTest {
  @Test
  void parsesValuesAsJacksonsUntypedReaderDoes() throws Exception {
    String text = "{\"s\":\"a\\\"b\\\\c\\n\\u00e9\\u20ac/\",\"i\":42,\"neg\":-7,\"l\":12345678901,"
        + "\"big\":123456789012345678901234567890,\"d\":1.5,\"e\":1e3,\"t\":true,\"f\":false,\"n\":null,"
        + "\"arr\":[1,[2,{}],[]],\"obj\":{\"x\":{}}}";
    Object parsed = Json.parse(text);
    Object jackson = JsonMapper.builder().build().readValue(text, Object.class);
    assertThat(parsed).isEqualTo(jackson);
    @SuppressWarnings("unchecked")
    Map<String, Object> map = (Map<String, Object>) parsed;
    assertThat(map).isInstanceOf(LinkedHashMap.class);
    assertThat(map.get("i")).isInstanceOf(Integer.class);
    assertThat(map.get("l")).isInstanceOf(Long.class);
    assertThat(map.get("big")).isInstanceOf(BigInteger.class);
    assertThat(map.get("d")).isEqualTo(1.5);
    assertThat(map.get("s")).isEqualTo("a\"b\\c\né€/");
    assertThat(Json.parse("  \"x\" ")).isEqualTo("x");
    assertThat(Json.parse("-0")).isEqualTo(0);
  }

  @Test
  void rejectsMalformedInput() {
    for (String bad : List.of("", "{", "{\"a\" 1}", "[1,]x", "tru", "\"\\x\"", "01x", "{\"a\":1,}", "\"a\nb\"", "-")) {
      assertThatThrownBy(() -> Json.parse(bad)).as(bad).isInstanceOf(Json.ParseException.class);
    }
  }

  @Test
  void writesPlainValues() throws Exception {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("s", "q\"\\\n\t\u0001é");
    map.put("n", null);
    map.put("i", 1);
    map.put("l", 2L);
    map.put("d", 2.5);
    map.put("nan", Double.NaN);
    map.put("f", 1.25f);
    map.put("big", new BigDecimal("1.10"));
    map.put("list", Arrays.asList(true, null, List.of()));
    map.put("set", Set.of("only"));
    String json = Json.toJson(map);
    assertThat(json).isEqualTo("{\"s\":\"q\\\"\\\\\\n\\t\\u0001é\",\"n\":null,\"i\":1,\"l\":2,\"d\":2.5,"
        + "\"nan\":\"NaN\",\"f\":1.25,\"big\":1.10,\"list\":[true,null,[]],\"set\":[\"only\"]}");
    assertThat(Json.parse(json)).isEqualTo(JsonMapper.builder().build().readValue(json, Object.class));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Json.write("é", out);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("\"é\"");
  }

  @Test
  void refusesValuesItCannotWrite() {
    assertThatThrownBy(() -> Json.toJson(new Object())).isInstanceOf(Json.UnsupportedValue.class);
    assertThatThrownBy(() -> Json.toJson(Map.of(1, "non-string key"))).isInstanceOf(Json.UnsupportedValue.class);
    assertThatThrownBy(() -> Json.toJson(List.of(Map.of("k", new StringBuilder("x")))))
        .isInstanceOf(Json.UnsupportedValue.class);
  }
}
