package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.api.json.Json;
import dev.kiln.core.Credential;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class FunctionUrlEventTest {
  private static final Instant NOW = Instant.parse("2021-09-07T22:50:22.677Z");
  private static final String ID = "abcdefghijklmnopqrstuvwxyz012345";

  private static JsonNode event(String contentType, byte[] body, Credential caller) {
    var headers = new LinkedHashMap<String, List<String>>();
    headers.put("host", List.of(ID + ".lambda-url.us-east-1.localhost:9000"));
    headers.put("cookie", List.of("a=1; b=2", "c=3"));
    headers.put("x-multi", List.of("1", "2"));
    if (contentType != null) {
      headers.put("content-type", List.of(contentType));
    }
    var request = new FunctionUrlEvent.Request(ID, "POST", "/p", "k=v&k=w&e=", headers, body, "10.0.0.1",
        "HTTP/1.1", ID + ".lambda-url.us-east-1.localhost", 9000);
    return Json.MAPPER.readTree(FunctionUrlEvent.build(request, "req-1", caller, NOW));
  }

  @Test
  void carriesTheRequestInPayloadFormat2() {
    var event = event("text/plain; charset=utf-8", "héllo".getBytes(StandardCharsets.UTF_8), null);
    assertThat(event.path("cookies")).extracting(JsonNode::asString).containsExactly("a=1", "b=2", "c=3");
    assertThat(event.path("headers").has("cookie")).isFalse();
    assertThat(event.path("headers").path("x-multi").asString()).isEqualTo("1,2");
    assertThat(event.path("queryStringParameters")).isEqualTo(Json.MAPPER.valueToTree(Map.of("k", "v,w", "e", "")));
    assertThat(event.path("requestContext").path("time").asString()).isEqualTo("07/Sep/2021:22:50:22 +0000");
    assertThat(event.path("requestContext").path("timeEpoch").asLong()).isEqualTo(1631055022677L);
    assertThat(event.path("requestContext").path("accountId").asString()).isEqualTo("anonymous");
    assertThat(event.path("requestContext").path("requestId").asString()).isEqualTo("req-1");
    assertThat(event.path("body").asString()).isEqualTo("héllo");
    assertThat(event.path("isBase64Encoded").asBoolean()).isFalse();
  }

  @Test
  void binaryFormAndUntypedBodiesAreBase64() {
    byte[] utf8 = "{}".getBytes(StandardCharsets.UTF_8);
    assertThat(event("application/octet-stream", utf8, null).path("isBase64Encoded").asBoolean()).isTrue();
    assertThat(event("application/x-www-form-urlencoded", utf8, null).path("isBase64Encoded").asBoolean()).isTrue();
    assertThat(event(null, utf8, null).path("isBase64Encoded").asBoolean()).isTrue();
    var invalidText = event("application/json", new byte[] {(byte) 0xc3, 0x28}, null);
    assertThat(invalidText.path("isBase64Encoded").asBoolean()).isTrue();
    assertThat(Base64.getDecoder().decode(invalidText.path("body").asString())).containsExactly(0xc3, 0x28);
    assertThat(event("application/vnd.api+json", utf8, null).path("isBase64Encoded").asBoolean()).isFalse();
  }

  @Test
  void anAwsIamCallerIsNamedInTheAuthorizer() {
    var event = event(null, new byte[0], new Credential("AKIDCALLER", "secret", "111122223333"));
    var context = event.path("requestContext");
    assertThat(context.path("accountId").asString()).isEqualTo("111122223333");
    assertThat(context.path("authorizer").path("iam").path("accessKey").asString()).isEqualTo("AKIDCALLER");
    assertThat(context.path("authorizer").path("iam").path("userArn").asString())
        .isEqualTo("arn:aws:iam::111122223333:root");
    assertThat(event.has("body")).isFalse();
    assertThat(event.path("isBase64Encoded").asBoolean()).isFalse();
  }
}
