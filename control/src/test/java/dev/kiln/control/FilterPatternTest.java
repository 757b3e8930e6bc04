package dev.kiln.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class FilterPatternTest {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static boolean matches(String pattern, String record) {
    return FilterPattern.parse(pattern).matches(json(record));
  }

  private static JsonNode json(String text) {
    return JSON.readTree(text);
  }

  @Test
  void exactValuesMatchByTypeAndNumbersByValue() {
    var record = "{\"body\":{\"kind\":\"order\",\"qty\":5,\"rush\":true,\"note\":null}}";
    assertThat(matches("{\"body\":{\"kind\":[\"order\"]}}", record)).isTrue();
    assertThat(matches("{\"body\":{\"kind\":[\"refund\",\"order\"]}}", record)).isTrue();
    assertThat(matches("{\"body\":{\"kind\":[\"refund\"]}}", record)).isFalse();
    assertThat(matches("{\"body\":{\"qty\":[5.0]}}", record)).isTrue();
    assertThat(matches("{\"body\":{\"qty\":[\"5\"]}}", record)).isFalse();
    assertThat(matches("{\"body\":{\"rush\":[true]}}", record)).isTrue();
    assertThat(matches("{\"body\":{\"note\":[null]}}", record)).isTrue();
    assertThat(matches("{\"body\":{\"kind\":[\"order\"],\"qty\":[6]}}", record)).as("every member must match").isFalse();
  }

  @Test
  void arraysInTheRecordMatchWhenAnyElementDoes() {
    assertThat(matches("{\"tags\":[\"b\"]}", "{\"tags\":[\"a\",\"b\"]}")).isTrue();
    assertThat(matches("{\"tags\":[\"c\"]}", "{\"tags\":[\"a\",\"b\"]}")).isFalse();
  }

  @Test
  void stringOperators() {
    assertThat(matches("{\"id\":[{\"prefix\":\"ord-\"}]}", "{\"id\":\"ord-17\"}")).isTrue();
    assertThat(matches("{\"id\":[{\"prefix\":\"ord-\"}]}", "{\"id\":\"inv-17\"}")).isFalse();
    assertThat(matches("{\"file\":[{\"suffix\":\".png\"}]}", "{\"file\":\"a.png\"}")).isTrue();
    assertThat(matches("{\"name\":[{\"equals-ignore-case\":\"ALICE\"}]}", "{\"name\":\"alice\"}")).isTrue();
    assertThat(matches("{\"id\":[{\"prefix\":\"1\"}]}", "{\"id\":17}")).as("prefix applies to strings only").isFalse();
  }

  @Test
  void numericRanges() {
    var range = "{\"price\":[{\"numeric\":[\">\",10,\"<=\",20]}]}";
    assertThat(matches(range, "{\"price\":10}")).isFalse();
    assertThat(matches(range, "{\"price\":10.5}")).isTrue();
    assertThat(matches(range, "{\"price\":20}")).isTrue();
    assertThat(matches(range, "{\"price\":20.01}")).isFalse();
    assertThat(matches(range, "{\"price\":\"15\"}")).isFalse();
    assertThat(matches("{\"n\":[{\"numeric\":[\"=\",3]}]}", "{\"n\":3.0}")).isTrue();
  }

  @Test
  void existsAndAnythingBut() {
    assertThat(matches("{\"error\":[{\"exists\":true}]}", "{\"error\":\"x\"}")).isTrue();
    assertThat(matches("{\"error\":[{\"exists\":true}]}", "{\"ok\":1}")).isFalse();
    assertThat(matches("{\"error\":[{\"exists\":false}]}", "{\"ok\":1}")).isTrue();
    assertThat(matches("{\"error\":[{\"exists\":false}]}", "{\"error\":null}")).isFalse();
    assertThat(matches("{\"s\":[{\"anything-but\":[\"a\",\"b\"]}]}", "{\"s\":\"c\"}")).isTrue();
    assertThat(matches("{\"s\":[{\"anything-but\":[\"a\",\"b\"]}]}", "{\"s\":\"a\"}")).isFalse();
    assertThat(matches("{\"s\":[{\"anything-but\":\"a\"}]}", "{}")).as("a missing value is not 'anything'").isFalse();
    assertThat(matches("{\"n\":[{\"anything-but\":0}]}", "{\"n\":1}")).isTrue();
    assertThat(matches("{\"s\":[{\"anything-but\":{\"prefix\":\"tmp-\"}}]}", "{\"s\":\"tmp-1\"}")).isFalse();
    assertThat(matches("{\"s\":[{\"anything-but\":{\"prefix\":\"tmp-\"}}]}", "{\"s\":\"keep\"}")).isTrue();
  }

  @Test
  void nestedPatternsNeedNestedObjects() {
    assertThat(matches("{\"body\":{\"kind\":[\"a\"]}}", "{\"body\":\"plain text\"}")).isFalse();
    assertThat(matches("{\"body\":[\"plain text\"]}", "{\"body\":\"plain text\"}")).isTrue();
  }

  @Test
  void criteriaPassWhenAnyPatternMatchesOrNoneAreSet() {
    var criteria = FilterCriteria.of(List.of("{\"k\":[\"a\"]}", "{\"k\":[\"b\"]}"));
    assertThat(criteria.passes(json("{\"k\":\"b\"}"))).isTrue();
    assertThat(criteria.passes(json("{\"k\":\"c\"}"))).isFalse();
    assertThat(FilterCriteria.of(List.of()).passes(json("{\"k\":\"c\"}"))).isTrue();
  }

  @Test
  void invalidPatternsAreRefusedWithInvalidParameterValue() {
    for (var bad : List.of("", "not json", "[]", "{}", "{\"a\":\"b\"}", "{\"a\":[]}", "{\"a\":{}}",
        "{\"a\":[{\"prefix\":1}]}", "{\"a\":[{\"numeric\":[\">\",\"x\"]}]}", "{\"a\":[{\"numeric\":[\"<\",1,\">\",2]}]}",
        "{\"a\":[{\"wildcard\":\"*\"}]}", "{\"a\":[{\"exists\":\"yes\"}]}", "{\"a\":[{\"prefix\":\"x\",\"suffix\":\"y\"}]}",
        "{\"a\":[[\"nested\"]]}")) {
      assertThatThrownBy(() -> FilterPattern.parse(bad)).as(bad)
          .isInstanceOfSatisfying(KilnException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.InvalidParameterValueException);
            assertThat(e.getMessage()).startsWith("Invalid filter pattern definition");
          });
    }
    assertThatThrownBy(() -> FilterCriteria.of(List.of("{\"a\":[1]}", "{\"a\":[2]}", "{\"a\":[3]}", "{\"a\":[4]}",
        "{\"a\":[5]}", "{\"a\":[6]}"))).isInstanceOf(KilnException.class).hasMessageContaining("at most 5");
  }
}
