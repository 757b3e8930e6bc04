package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Curl;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.RawHttp;
import java.net.URI;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import tools.jackson.databind.JsonNode;

/**
 * Requests the HTTP server refuses before any of Kiln's routes sees them (oversized or malformed
 * heads, broken bodies) still get Lambda's error shape: an {@code x-amzn-ErrorType} header and a
 * JSON body, {@code {"Type":"User","message":...}} on the API and {@code {"Message":...}} on a
 * function URL, with the status that fits the fault. Sent with curl where curl can send them, over
 * a plain socket where no client would.
 */
class MalformedRequestsTest extends InvokeTestBase {
  /** Past the ~16 KB the server reads of a request head. */
  private static final String HUGE = "a".repeat(20_000);

  private Curl curl;
  private String url;
  private String urlHost;

  @BeforeAll
  void deployUrl() {
    curl = new Curl(workDir.resolve("curl"));
    String name = deploy("malformed", "nodejs22.x", "index.handler",
        Functions.node("exports.handler = async () => 'fine';"));
    url = lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.NONE))
        .functionUrl();
    urlHost = URI.create(url).getAuthority();
  }

  @Test
  void an_oversized_header_is_a_lambda_shaped_431() {
    Curl.Response api = curl.get(server.endpoint() + "/2015-03-31/functions", "X-Big: " + HUGE);
    assertApiError(api.status(), api.header("x-amzn-ErrorType"), api.text(), 431, "RequestTooLargeException");

    // The host form's Host header is among the headers that could not be read: the reply has both
    // shapes' common part, the error type and a Message.
    Curl.Response hostForm = curl.get(url, "X-Big: " + HUGE);
    assertThat(hostForm.status()).isEqualTo(431);
    assertThat(hostForm.header("x-amzn-ErrorType")).isEqualTo("RequestTooLargeException");
    assertThat(hostForm.json().path("Message").asString()).contains("headers are too large");
    Curl.Response pathForm = curl.get(server.endpoint() + "/kiln/v1/url/" + urlHost.split("\\.")[0] + "/",
        "X-Big: " + HUGE);
    assertUrlError(pathForm.status(), pathForm.header("x-amzn-ErrorType"), pathForm.text(), 431,
        "RequestTooLargeException");
    assertThat(curl.get(url).text()).as("the URL still answers").isEqualTo("fine");
  }

  @Test
  void an_oversized_request_line_is_a_lambda_shaped_414() {
    Curl.Response api = curl.get(server.endpoint() + "/2015-03-31/functions?x=" + HUGE);
    assertApiError(api.status(), api.header("x-amzn-ErrorType"), api.text(), 414, "RequestTooLargeException");
  }

  @Test
  void malformed_request_heads_are_lambda_shaped_400s_and_a_function_urls_path_keeps_its_shape() {
    for (String request : new String[] {
        "GARBAGE\r\n\r\n",
        "GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
        "GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nX-Ctl: a\u0001b\r\n\r\n",
        "POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"}) {
      RawHttp.Response r = RawHttp.send(server.port(), request);
      assertApiError(r.status(), r.header("x-amzn-ErrorType"), r.body(), 400, "InvalidRequestContentException");
    }
    // Helidon reports a method that is not a token as its own internal error: Kiln cannot tell it from one.
    RawHttp.Response badMethod = RawHttp.send(server.port(), "G@T /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n\r\n");
    assertThat(badMethod.status()).isEqualTo(500);
    assertThat(badMethod.header("x-amzn-ErrorType")).isEqualTo("ServiceException");
    assertThat(json(badMethod.body()).path("Type").asString()).isEqualTo("Service");

    RawHttp.Response toUrl = RawHttp.send(server.port(), "GET /kiln/v1/url/" + urlHost.split("\\.")[0]
        + "/ HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n");
    assertUrlError(toUrl.status(), toUrl.header("x-amzn-ErrorType"), toUrl.body(), 400,
        "InvalidRequestContentException");
  }

  @Test
  void an_unsupported_http_version_is_a_lambda_shaped_505() {
    RawHttp.Response r = RawHttp.send(server.port(), "GET /2015-03-31/functions HTTP/3.0\r\nHost: x\r\n\r\n");
    assertApiError(r.status(), r.header("x-amzn-ErrorType"), r.body(), 505, "InvalidRequestContentException");
  }

  @Test
  void a_broken_chunked_body_is_a_lambda_shaped_400_at_once() {
    RawHttp.Response api = RawHttp.send(server.port(), "POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n"
        + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
    assertApiError(api.status(), api.header("x-amzn-ErrorType"), api.body(), 400,
        "InvalidRequestContentException");
    RawHttp.Response toUrl = RawHttp.send(server.port(), "POST / HTTP/1.1\r\nHost: " + urlHost + "\r\n"
        + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
    assertUrlError(toUrl.status(), toUrl.header("x-amzn-ErrorType"), toUrl.body(), 400,
        "InvalidRequestContentException");
  }

  private static void assertApiError(int status, String errorType, String body, int expectedStatus,
      String expectedType) {
    assertThat(status).as("status of %s", body).isEqualTo(expectedStatus);
    assertThat(errorType).as("x-amzn-ErrorType of %s", body).isEqualTo(expectedType);
    JsonNode doc = json(body);
    assertThat(doc.path("Type").asString()).isEqualTo("User");
    assertThat(doc.path("message").asString()).isNotBlank();
  }

  private static void assertUrlError(int status, String errorType, String body, int expectedStatus,
      String expectedType) {
    assertThat(status).as("status of %s", body).isEqualTo(expectedStatus);
    assertThat(errorType).as("x-amzn-ErrorType of %s", body).isEqualTo(expectedType);
    JsonNode doc = json(body);
    assertThat(doc.path("Message").asString()).isNotBlank();
    assertThat(doc.has("Type")).as("a function URL's error shape: %s", body).isFalse();
  }
}
