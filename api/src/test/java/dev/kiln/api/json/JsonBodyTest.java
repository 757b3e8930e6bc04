package dev.kiln.api.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonBodyTest {
  private static JsonBody body(String json) {
    return JsonBody.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void readsTypedMembers() {
    var b = body("{\"MemorySize\":256,\"Publish\":true,\"Environment\":{\"Variables\":{\"A\":\"1\"}},"
        + "\"Architectures\":[\"arm64\"],\"Code\":{\"ZipFile\":\"UEs=\"}}");
    assertThat(b.integer("MemorySize")).isEqualTo(256);
    assertThat(b.bool("Publish", false)).isTrue();
    assertThat(b.object("Environment").stringMap("Variables")).containsEntry("A", "1");
    assertThat(b.stringList("Architectures")).containsExactly("arm64");
    assertThat(b.object("Code").blob("ZipFile")).containsExactly('P', 'K');
    assertThat(b.string("Missing")).isNull();
  }

  @Test
  void wrongTypesAndMalformedJsonAreInvalidRequestContent() {
    assertInvalidContent(() -> body("{\"MemorySize\":\"big\"}").integer("MemorySize"), "MemorySize");
    assertInvalidContent(() -> body("{\"Code\":{\"ZipFile\":5}}").object("Code").blob("ZipFile"), "Code.ZipFile");
    assertInvalidContent(() -> body("{\"Code\":{\"ZipFile\":\"***\"}}").object("Code").blob("ZipFile"), "base64");
    assertInvalidContent(() -> body("{\"FunctionName\": "), "Could not parse");
    assertInvalidContent(() -> body("[1,2]"), "JSON object");
    assertInvalidContent(() -> body("{\"MemorySize\":1.5}").integer("MemorySize"), "integer");
  }

  @Test
  void anEmptyBodyIsAnEmptyObject() {
    assertThat(JsonBody.parse(new byte[0]).has("x")).isFalse();
    assertThat(body("null").has("x")).isFalse();
  }

  private static void assertInvalidContent(Runnable read, String messagePart) {
    assertThatThrownBy(read::run).isInstanceOfSatisfying(KilnException.class, e -> {
      assertThat(e.code()).isEqualTo(ErrorCode.InvalidRequestContentException);
      assertThat(e.getMessage()).contains(messagePart);
    });
  }
}
