package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FunctionUrlResponseTest {
  private static FunctionUrlResponse of(String payload) throws FunctionUrlResponse.Malformed {
    return FunctionUrlResponse.of(payload.getBytes(StandardCharsets.UTF_8));
  }

  private static String body(FunctionUrlResponse response) {
    return new String(response.body(), StandardCharsets.UTF_8);
  }

  @Test
  void aDescribedResponseGivesStatusHeadersCookiesAndBody() throws Exception {
    var response = of("""
        {"statusCode": 201, "headers": {"X-Number": 7, "X-List": ["a", "b"], "Content-Length": "99",
         "Set-Cookie": "fromHeader=1"}, "cookies": ["a=1; Path=/", "b=2"], "body": "made"}""");
    assertThat(response.status()).isEqualTo(201);
    assertThat(response.headers()).containsEntry("X-Number", "7").containsEntry("X-List", "a,b")
        .containsEntry("Content-Type", "application/json").doesNotContainKey("Content-Length");
    assertThat(response.cookies()).containsExactly("fromHeader=1", "a=1; Path=/", "b=2");
    assertThat(body(response)).isEqualTo("made");
  }

  @Test
  void bodiesMayBeBase64OrJsonOrMissing() throws Exception {
    assertThat(of("{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"AAH/\"}").body())
        .containsExactly(0, 1, 255);
    assertThat(body(of("{\"statusCode\":200,\"body\":{\"nested\":true}}"))).isEqualTo("{\"nested\":true}");
    assertThat(of("{\"statusCode\":204}").body()).isEmpty();
    assertThat(of("{\"statusCode\":\"418\",\"headers\":{\"content-type\":\"text/plain\"}}").headers())
        .isEqualTo(Map.of("content-type", "text/plain"));
  }

  @Test
  void anyOtherValueIsTheBodyOfA200JsonResponse() throws Exception {
    var string = of("\"hello\"");
    assertThat(string.status()).isEqualTo(200);
    assertThat(string.headers()).containsEntry("Content-Type", "application/json");
    assertThat(body(string)).isEqualTo("hello");
    assertThat(body(of("{\"hello\": \"world\", \"body\": \"not a description\"}")))
        .isEqualTo("{\"hello\":\"world\",\"body\":\"not a description\"}");
    assertThat(body(of("[\"hello\", 3, true]"))).isEqualTo("[\"hello\",3,true]");
    assertThat(body(of("3.1"))).isEqualTo("3.1");
    assertThat(body(of("null"))).isEqualTo("null");
  }

  @Test
  void aResponseThatCannotBeSentIsMalformed() {
    assertThatThrownBy(() -> of("{\"statusCode\":\"teapot\"}")).isInstanceOf(FunctionUrlResponse.Malformed.class);
    assertThatThrownBy(() -> of("{\"statusCode\":99}")).isInstanceOf(FunctionUrlResponse.Malformed.class);
    assertThatThrownBy(() -> of("{\"statusCode\":{}}")).isInstanceOf(FunctionUrlResponse.Malformed.class);
    assertThatThrownBy(() -> of("{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"%%%\"}"))
        .isInstanceOf(FunctionUrlResponse.Malformed.class);
  }

  @Test
  void interimStatusesAndHeadersNoLineCanCarryAreMalformed() {
    for (var result : java.util.List.of("{\"statusCode\":100}", "{\"statusCode\":101}", "{\"statusCode\":103}",
        "{\"statusCode\":199}", "{\"statusCode\":600}",
        "{\"statusCode\":200,\"headers\":{\"X-A\":\"a\\r\\nB: c\"}}",
        "{\"statusCode\":200,\"headers\":{\"X-A\\r\\nB\":\"c\"}}",
        "{\"statusCode\":200,\"headers\":{\"X A\":\"c\"}}",
        "{\"statusCode\":200,\"headers\":{\"\":\"c\"}}",
        "{\"statusCode\":200,\"headers\":{\"X-A\":\"a\\u0000b\"}}",
        "{\"statusCode\":200,\"headers\":{\"X-A\":\"caf\\u00e9\"}}",
        "{\"statusCode\":200,\"headers\":{\"Set-Cookie\":\"a=1\\nB: c\"}}",
        "{\"statusCode\":200,\"cookies\":[\"a=1\\r\\nB: c\"]}")) {
      assertThatThrownBy(() -> of(result)).as(result).isInstanceOf(FunctionUrlResponse.Malformed.class);
      assertThatThrownBy(() -> FunctionUrlResponse.prelude(result.getBytes(StandardCharsets.UTF_8))).as(result)
          .isInstanceOf(FunctionUrlResponse.Malformed.class);
    }
  }

  @Test
  void headerValuesLoseTheirOuterBlanksAndBodyLessStatusesSendNoBody() throws Exception {
    var response = of("{\"statusCode\":200,\"headers\":{\"X-A\":\" \\ta\\tb \",\"X-Empty\":\"\"}}");
    assertThat(response.headers()).containsEntry("X-A", "a\tb").containsEntry("X-Empty", "");
    assertThat(response.sendsBody()).isTrue();
    for (int status : new int[] {204, 205, 304}) {
      assertThat(of("{\"statusCode\":" + status + ",\"body\":\"x\"}").sendsBody()).isFalse();
    }
    assertThatThrownBy(() -> FunctionUrlResponse.plain("text/plain\u0001", new byte[0]))
        .isInstanceOf(FunctionUrlResponse.Malformed.class);
  }

  @Test
  void aStreamPreludeDefaultsTo200AndAnOctetStream() throws Exception {
    var prelude = FunctionUrlResponse.prelude("{\"headers\":{\"X-A\":\"1\"},\"cookies\":[\"c=1\"]}"
        .getBytes(StandardCharsets.UTF_8));
    assertThat(prelude.status()).isEqualTo(200);
    assertThat(prelude.headers()).containsEntry("Content-Type", "application/octet-stream").containsEntry("X-A", "1");
    assertThat(prelude.cookies()).containsExactly("c=1");
    assertThatThrownBy(() -> FunctionUrlResponse.prelude("[1]".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(FunctionUrlResponse.Malformed.class);
  }
}
