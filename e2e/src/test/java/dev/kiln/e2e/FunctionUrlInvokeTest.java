package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Curl;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.RawHttp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.services.lambda.model.FunctionUrlAuthType;
import software.amazon.awssdk.services.lambda.model.InvokeMode;
import tools.jackson.databind.JsonNode;

/**
 * Requests to function URLs as plain HTTP clients send them: curl on the host form
 * ({@code http://<url-id>.lambda-url.us-east-1.localhost:<port>/}, which curl resolves to the
 * loopback address itself) and the JDK HttpClient on the path form ({@code /kiln/v1/url/<url-id>/}).
 * Covers the payload format 2.0 event as the function sees it, Lambda's response mapping, errors,
 * CORS, AWS_IAM signatures and RESPONSE_STREAM.
 */
class FunctionUrlInvokeTest extends InvokeTestBase {
  /** Answers according to the path; by default echoes the event it got. */
  private static final String NODE_URL_FUNCTION =
      """
      exports.handler = async (event, context) => {
        switch (event.rawPath) {
          case '/custom':
            return {
              statusCode: 201,
              headers: { 'Content-Type': 'text/plain', 'X-Custom': 'custom value',
                         'Access-Control-Allow-Origin': 'https://function.example' },
              cookies: ['session=abc; Path=/; HttpOnly', 'theme=dark'],
              body: 'created',
            };
          case '/binary':
            return { statusCode: 200, headers: { 'Content-Type': 'application/octet-stream' },
                     isBase64Encoded: true, body: Buffer.from([0, 1, 2, 255]).toString('base64') };
          case '/string': return 'just a string';
          case '/object': return { hello: 'world', list: [1, 2, 3] };
          case '/teapot': return { statusCode: '418', body: "I'm a teapot" };
          case '/fail': throw new Error('failed on purpose');
          case '/slow': await new Promise((r) => setTimeout(r, 5000)); return 'too late';
        }
        return {
          statusCode: 200,
          headers: { 'Content-Type': 'application/json', 'X-From-Function': 'yes' },
          body: JSON.stringify({ event, awsRequestId: context.awsRequestId,
                                 invokedFunctionArn: context.invokedFunctionArn }),
        };
      };
      """;

  private static final String NODE_STREAMING =
      """
      exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
        const pause = (ms) => new Promise((r) => setTimeout(r, ms));
        const gap = Number((event.queryStringParameters || {}).gap || 0);
        if (event.rawPath === '/plain') {
          responseStream.setContentType('text/csv');
          responseStream.write('a,b\\n');
          await pause(gap);
          responseStream.end('1,2\\n');
          return;
        }
        if (event.rawPath === '/fail') throw new Error('failed before writing');
        const http = awslambda.HttpResponseStream.from(responseStream, {
          statusCode: 203,
          headers: { 'Content-Type': 'text/plain', 'X-Streamed': 'yes' },
          cookies: ['streamed=1'],
        });
        http.write('chunk-1;');
        await pause(gap);
        http.write('chunk-2;');
        await pause(gap);
        http.end('chunk-3;');
      });
      """;

  /**
   * Answers with the result the request describes: {@code ?r=} is that result as base64url JSON, so
   * a test can make the function return what a careless or hostile function would.
   */
  private static final String NODE_ANSWERS_AS_TOLD =
      """
      exports.handler = async (event) =>
        JSON.parse(Buffer.from(event.queryStringParameters.r, 'base64url').toString('utf8'));
      """;

  /** The streaming counterpart: {@code ?r=} is the HttpResponseStream prelude, {@code ?b=} the body. */
  private static final String NODE_STREAMS_AS_TOLD =
      """
      exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
        const q = event.queryStringParameters;
        const prelude = JSON.parse(Buffer.from(q.r, 'base64url').toString('utf8'));
        const http = awslambda.HttpResponseStream.from(responseStream, prelude);
        http.end(q.b || '');
      });
      """;

  private final HttpClient jdk =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
  private Curl curl;
  private String echo;
  private String echoUrl;
  private String streamUrl;
  private String toldUrl;
  private String toldStreamUrl;

  @BeforeAll
  void deployFunctions() {
    curl = new Curl(workDir.resolve("curl"));
    echo = deploy("url-echo", "nodejs22.x", "index.handler", Functions.node(NODE_URL_FUNCTION), b -> b.timeout(2));
    echoUrl = lambda.createFunctionUrlConfig(b -> b.functionName(echo).authType(FunctionUrlAuthType.NONE)
        .cors(c -> c.allowOrigins("https://app.example").allowMethods("GET", "POST").allowHeaders("x-custom")
            .exposeHeaders("x-custom").allowCredentials(true).maxAge(600))).functionUrl();
    String streamer = deploy("url-stream", "nodejs22.x", "index.handler", Functions.node(NODE_STREAMING));
    streamUrl = lambda.createFunctionUrlConfig(b -> b.functionName(streamer).authType(FunctionUrlAuthType.NONE)
        .invokeMode(InvokeMode.RESPONSE_STREAM)).functionUrl();
    String told = deploy("url-told", "nodejs22.x", "index.handler", Functions.node(NODE_ANSWERS_AS_TOLD));
    toldUrl = lambda.createFunctionUrlConfig(b -> b.functionName(told).authType(FunctionUrlAuthType.NONE))
        .functionUrl();
    String toldStream = deploy("url-told-stream", "nodejs22.x", "index.handler",
        Functions.node(NODE_STREAMS_AS_TOLD));
    toldStreamUrl = lambda.createFunctionUrlConfig(b -> b.functionName(toldStream)
        .authType(FunctionUrlAuthType.NONE).invokeMode(InvokeMode.RESPONSE_STREAM)).functionUrl();
  }

  /** The URL at which the "as told" function answers {@code result}. */
  private static String told(String url, Object result) {
    return url + "?r=" + Base64.getUrlEncoder().withoutPadding().encodeToString(JSON.writeValueAsBytes(result));
  }

  private static String toldStream(String url, Object prelude, String body) {
    return told(url, prelude) + "&b=" + java.net.URLEncoder.encode(body, StandardCharsets.UTF_8);
  }

  private static String urlId(String url) {
    return URI.create(url).getHost().split("\\.")[0];
  }

  /** The path form of a URL on this server: http://127.0.0.1:port/kiln/v1/url/<id><path>. */
  private String pathForm(String url, String pathAndQuery) {
    return server.endpoint() + "/kiln/v1/url/" + urlId(url) + pathAndQuery;
  }

  private HttpResponse<byte[]> jdkSend(HttpRequest request) {
    try {
      return jdk.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void the_function_sees_a_payload_format_2_event_through_the_host_form() {
    Curl.Response response = curl.send("POST", echoUrl + "some/path?b=2&a=1&a=3&space=x%20y",
        List.of("Content-Type: application/json", "X-Multi: one", "X-Multi: two", "Cookie: c1=v1; c2=v2",
            "User-Agent: url-test/1.0"),
        "{\"hello\":\"world\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(response.status()).as("%s", response).isEqualTo(200);
    JsonNode echoed = response.json();
    JsonNode event = echoed.path("event");
    String id = urlId(echoUrl);
    assertThat(event.path("version").asString()).isEqualTo("2.0");
    assertThat(event.path("routeKey").asString()).isEqualTo("$default");
    assertThat(event.path("rawPath").asString()).isEqualTo("/some/path");
    assertThat(event.path("rawQueryString").asString()).isEqualTo("b=2&a=1&a=3&space=x%20y");
    assertThat(event.path("queryStringParameters").path("a").asString()).isEqualTo("1,3");
    assertThat(event.path("queryStringParameters").path("b").asString()).isEqualTo("2");
    assertThat(event.path("queryStringParameters").path("space").asString()).isEqualTo("x y");
    assertThat(event.path("cookies")).extracting(JsonNode::asString).containsExactly("c1=v1", "c2=v2");
    JsonNode headers = event.path("headers");
    assertThat(headers.path("x-multi").asString()).isEqualTo("one,two");
    assertThat(headers.path("content-type").asString()).isEqualTo("application/json");
    assertThat(headers.path("host").asString()).isEqualTo(URI.create(echoUrl).getAuthority());
    assertThat(headers.has("cookie")).as("cookies travel in their own member").isFalse();
    assertThat(headers.path("x-forwarded-proto").asString()).isEqualTo("http");
    assertThat(headers.path("x-forwarded-port").asString()).isEqualTo(String.valueOf(server.port()));
    assertThat(headers.path("x-forwarded-for").asString()).isEqualTo("127.0.0.1");
    assertThat(headers.path("x-amzn-trace-id").asString()).matches("Root=1-[0-9a-f]{8}-[0-9a-f]{24}");
    JsonNode context = event.path("requestContext");
    assertThat(context.path("accountId").asString()).isEqualTo("anonymous");
    assertThat(context.path("apiId").asString()).isEqualTo(id);
    assertThat(context.path("domainName").asString()).isEqualTo(id + ".lambda-url.us-east-1.localhost");
    assertThat(context.path("domainPrefix").asString()).isEqualTo(id);
    assertThat(context.path("http").path("method").asString()).isEqualTo("POST");
    assertThat(context.path("http").path("path").asString()).isEqualTo("/some/path");
    assertThat(context.path("http").path("protocol").asString()).isEqualTo("HTTP/1.1");
    assertThat(context.path("http").path("sourceIp").asString()).isEqualTo("127.0.0.1");
    assertThat(context.path("http").path("userAgent").asString()).isEqualTo("url-test/1.0");
    assertThat(context.path("routeKey").asString()).isEqualTo("$default");
    assertThat(context.path("stage").asString()).isEqualTo("$default");
    assertThat(context.path("time").asString()).matches("\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} \\+0000");
    assertThat(context.path("timeEpoch").asLong()).isCloseTo(System.currentTimeMillis(),
        org.assertj.core.data.Offset.offset(120_000L));
    assertThat(context.has("authorizer")).isFalse();
    // One request id throughout: the response header, the event and the invocation.
    assertThat(context.path("requestId").asString()).isEqualTo(response.header("x-amzn-RequestId"))
        .isEqualTo(echoed.path("awsRequestId").asString());
    assertThat(echoed.path("invokedFunctionArn").asString()).isEqualTo(arn(echo));
    assertThat(event.path("body").asString()).isEqualTo("{\"hello\":\"world\"}");
    assertThat(event.path("isBase64Encoded").asBoolean()).isFalse();

    JsonNode bare = curl.get(echoUrl).json().path("event");
    assertThat(bare.path("rawPath").asString()).isEqualTo("/");
    assertThat(bare.path("rawQueryString").asString()).isEmpty();
    assertThat(bare.has("queryStringParameters")).isFalse();
    assertThat(bare.has("body")).isFalse();
    assertThat(bare.has("cookies")).isFalse();
    assertThat(bare.path("isBase64Encoded").asBoolean()).isFalse();
  }

  @Test
  void the_path_form_serves_clients_that_cannot_set_host() {
    byte[] binary = {0, 1, 2, (byte) 0xfe, (byte) 0xff};
    HttpResponse<byte[]> response = jdkSend(HttpRequest.newBuilder(URI.create(pathForm(echoUrl, "/deep/er?x=1")))
        .header("Content-Type", "application/octet-stream")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(binary)).timeout(Duration.ofSeconds(60)).build());
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode event = json(new String(response.body(), StandardCharsets.UTF_8)).path("event");
    assertThat(event.path("rawPath").asString()).as("the function sees the path after the url id")
        .isEqualTo("/deep/er");
    assertThat(event.path("requestContext").path("http").path("method").asString()).isEqualTo("PUT");
    assertThat(event.path("requestContext").path("domainName").asString())
        .isEqualTo(urlId(echoUrl) + ".lambda-url.us-east-1.localhost");
    assertThat(event.path("isBase64Encoded").asBoolean()).isTrue();
    assertThat(Base64.getDecoder().decode(event.path("body").asString())).isEqualTo(binary);

    HttpResponse<byte[]> root = jdkSend(HttpRequest.newBuilder(URI.create(pathForm(echoUrl, ""))).GET().build());
    assertThat(json(new String(root.body(), StandardCharsets.UTF_8)).path("event").path("rawPath").asString())
        .isEqualTo("/");
    // Text that is not valid UTF-8 travels base64-encoded too; form posts always do.
    HttpResponse<byte[]> form = jdkSend(HttpRequest.newBuilder(URI.create(pathForm(echoUrl, "/form")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("a=1&b=2")).build());
    JsonNode formEvent = json(new String(form.body(), StandardCharsets.UTF_8)).path("event");
    assertThat(formEvent.path("isBase64Encoded").asBoolean()).isTrue();
    assertThat(new String(Base64.getDecoder().decode(formEvent.path("body").asString()), StandardCharsets.UTF_8))
        .isEqualTo("a=1&b=2");
  }

  @Test
  void responses_are_mapped_as_lambda_maps_them() {
    Curl.Response custom = curl.get(echoUrl + "custom");
    assertThat(custom.status()).isEqualTo(201);
    assertThat(custom.header("Content-Type")).isEqualTo("text/plain");
    assertThat(custom.header("X-Custom")).isEqualTo("custom value");
    assertThat(custom.headers("Set-Cookie")).containsExactly("session=abc; Path=/; HttpOnly", "theme=dark");
    assertThat(custom.text()).isEqualTo("created");

    Curl.Response binary = curl.get(echoUrl + "binary");
    assertThat(binary.status()).isEqualTo(200);
    assertThat(binary.header("Content-Type")).isEqualTo("application/octet-stream");
    assertThat(binary.body()).isEqualTo(new byte[] {0, 1, 2, (byte) 255});

    Curl.Response string = curl.get(echoUrl + "string");
    assertThat(string.status()).isEqualTo(200);
    assertThat(string.header("Content-Type")).isEqualTo("application/json");
    assertThat(string.text()).as("a bare string is sent as its text").isEqualTo("just a string");

    Curl.Response object = curl.get(echoUrl + "object");
    assertThat(object.status()).isEqualTo(200);
    assertThat(object.header("Content-Type")).isEqualTo("application/json");
    assertThat(object.text()).isEqualTo("{\"hello\":\"world\",\"list\":[1,2,3]}");

    Curl.Response teapot = curl.get(echoUrl + "teapot");
    assertThat(teapot.status()).as("a statusCode given as text").isEqualTo(418);
    assertThat(teapot.text()).isEqualTo("I'm a teapot");
  }

  @Test
  void function_errors_and_timeouts_are_502() {
    Curl.Response failed = curl.get(echoUrl + "fail");
    assertThat(failed.status()).isEqualTo(502);
    assertThat(failed.text()).isEqualTo("Internal Server Error");
    Curl.Response timedOut = curl.get(echoUrl + "slow");
    assertThat(timedOut.status()).as("the function's 2 s timeout").isEqualTo(502);
    assertThat(timedOut.text()).isEqualTo("Internal Server Error");
    // The environments were replaced: the URL answers again.
    assertThat(curl.get(echoUrl + "string").text()).isEqualTo("just a string");
  }

  @Test
  void cors_preflights_are_answered_by_kiln_and_responses_carry_the_configured_headers() {
    Curl.Response preflight = curl.send("OPTIONS", echoUrl + "anything",
        List.of("Origin: https://app.example", "Access-Control-Request-Method: POST",
            "Access-Control-Request-Headers: x-custom"), null);
    assertThat(preflight.status()).isEqualTo(200);
    assertThat(preflight.header("Access-Control-Allow-Origin")).isEqualTo("https://app.example");
    assertThat(preflight.header("Access-Control-Allow-Methods")).isEqualTo("GET,POST");
    assertThat(preflight.header("Access-Control-Allow-Headers")).isEqualTo("x-custom");
    assertThat(preflight.header("Access-Control-Max-Age")).isEqualTo("600");
    assertThat(preflight.header("Access-Control-Allow-Credentials")).isEqualTo("true");
    assertThat(preflight.header("X-From-Function")).as("the function was not invoked").isNull();
    assertThat(preflight.body()).isEmpty();

    Curl.Response stranger = curl.send("OPTIONS", echoUrl, List.of("Origin: https://evil.example",
        "Access-Control-Request-Method: POST"), null);
    assertThat(stranger.header("Access-Control-Allow-Origin")).isNull();
    assertThat(stranger.header("X-From-Function")).isNull();

    Curl.Response simple = curl.get(echoUrl, "Origin: https://app.example");
    assertThat(simple.header("X-From-Function")).isEqualTo("yes");
    assertThat(simple.header("Access-Control-Allow-Origin")).isEqualTo("https://app.example");
    assertThat(simple.header("Access-Control-Expose-Headers")).isEqualTo("x-custom");
    assertThat(simple.header("Access-Control-Allow-Credentials")).isEqualTo("true");

    Curl.Response overridden = curl.get(echoUrl + "custom", "Origin: https://app.example");
    assertThat(overridden.headers("Access-Control-Allow-Origin")).as("the configuration wins over the function")
        .containsExactly("https://app.example");
    Curl.Response noOrigin = curl.get(echoUrl);
    assertThat(noOrigin.header("Access-Control-Allow-Origin")).isNull();
  }

  @Test
  void an_open_url_without_cors_passes_options_to_the_function() {
    String name = deploy("url-nocors", "nodejs22.x", "index.handler", Functions.node(NODE_URL_FUNCTION));
    String url = lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.NONE))
        .functionUrl();
    Curl.Response options = curl.send("OPTIONS", url, List.of("Origin: https://app.example",
        "Access-Control-Request-Method: POST"), null);
    assertThat(options.header("X-From-Function")).isEqualTo("yes");
    assertThat(options.json().path("event").path("requestContext").path("http").path("method").asString())
        .isEqualTo("OPTIONS");
  }

  @Test
  void an_aws_iam_url_takes_only_sigv4_signed_requests_of_its_account() {
    String name = deploy("url-iam", "nodejs22.x", "index.handler", Functions.node(NODE_URL_FUNCTION));
    String url = lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.AWS_IAM))
        .functionUrl();

    Curl.Response unsigned = curl.get(url);
    assertThat(unsigned.status()).isEqualTo(403);
    assertThat(unsigned.header("x-amzn-ErrorType")).isEqualTo("AccessDeniedException");
    assertThat(unsigned.text()).isEqualTo("{\"Message\":\"Forbidden\"}");

    byte[] body = "{\"signed\":true}".getBytes(StandardCharsets.UTF_8);
    Curl.Response signed = signedCurl("POST", url + "private?x=1", body, secretKey);
    assertThat(signed.status()).as("%s", signed).isEqualTo(200);
    JsonNode context = signed.json().path("event").path("requestContext");
    assertThat(context.path("accountId").asString()).isEqualTo(ACCOUNT);
    assertThat(context.path("authorizer").path("iam").path("accessKey").asString()).isEqualTo(accessKey);
    assertThat(context.path("authorizer").path("iam").path("accountId").asString()).isEqualTo(ACCOUNT);
    assertThat(signed.json().path("event").path("body").asString()).isEqualTo("{\"signed\":true}");

    assertThat(signedCurl("POST", url + "private", body, secretKey + "x").status()).isEqualTo(403);
    // A valid signature over other bytes than those sent is refused too.
    assertThat(signedCurl("POST", url + "private", body, secretKey, "{\"signed\":false}".getBytes(
        StandardCharsets.UTF_8)).status()).isEqualTo(403);

    // The path form is signed over its own host and path, like any request to this server.
    var pathForm = http.send("GET", "/kiln/v1/url/" + urlId(url) + "/via-path", (byte[]) null);
    assertThat(pathForm.status()).as("%s", pathForm).isEqualTo(200);
    assertThat(pathForm.json().path("event").path("rawPath").asString()).isEqualTo("/via-path");
  }

  @Test
  void unknown_urls_and_urls_of_deleted_aliases_are_refused() {
    Curl.Response unknown = curl.get("http://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.localhost:"
        + server.port() + "/");
    assertThat(unknown.status()).isEqualTo(403);
    assertThat(unknown.text()).isEqualTo("{\"Message\":null}");
    assertThat(unknown.header("x-amzn-ErrorType")).isEqualTo("AccessDeniedException");
    Curl.Response otherRegion = curl.get(echoUrl.replace("us-east-1", "eu-west-1"));
    assertThat(otherRegion.status()).isEqualTo(403);

    String name = deploy("url-alias", "nodejs22.x", "index.handler", Functions.node(NODE_URL_FUNCTION));
    lambda.createAlias(b -> b.functionName(name).name("live").functionVersion("$LATEST"));
    String url = lambda.createFunctionUrlConfig(b -> b.functionName(name).qualifier("live")
        .authType(FunctionUrlAuthType.NONE)).functionUrl();
    Curl.Response live = curl.get(url);
    assertThat(live.status()).isEqualTo(200);
    assertThat(live.json().path("invokedFunctionArn").asString()).isEqualTo(arn(name) + ":live");

    lambda.deleteAlias(b -> b.functionName(name).name("live"));
    Curl.Response orphan = curl.get(url);
    assertThat(orphan.status()).isEqualTo(403);
    assertThat(orphan.text()).isEqualTo("{\"Message\":\"Forbidden\"}");
    assertThat(lambda.getFunctionUrlConfig(b -> b.functionName(name).qualifier("live")).functionUrl())
        .as("the configuration outlives its alias, as on Lambda").isEqualTo(url);
  }

  @Test
  void throttles_are_429_and_oversized_requests_413() {
    String name = deploy("url-throttle", "nodejs22.x", "index.handler", Functions.node(NODE_URL_FUNCTION));
    String url = lambda.createFunctionUrlConfig(b -> b.functionName(name).authType(FunctionUrlAuthType.NONE))
        .functionUrl();
    lambda.putFunctionConcurrency(b -> b.functionName(name).reservedConcurrentExecutions(0));
    Curl.Response throttled = curl.get(url);
    assertThat(throttled.status()).isEqualTo(429);
    assertThat(throttled.header("x-amzn-ErrorType")).isEqualTo("TooManyRequestsException");
    lambda.deleteFunctionConcurrency(b -> b.functionName(name));
    assertThat(curl.get(url + "string").status()).isEqualTo(200);

    Curl.Response tooLarge = curl.send("POST", url, List.of("Content-Type: text/plain"),
        new byte[6 * 1024 * 1024 + 1]);
    assertThat(tooLarge.status()).isEqualTo(413);
    assertThat(tooLarge.header("x-amzn-ErrorType")).isEqualTo("RequestTooLargeException");
    // Base64 makes a 5 MB binary body a 6.7 MB event: over the limit too.
    Curl.Response grown = curl.send("POST", url, List.of("Content-Type: application/octet-stream"),
        new byte[5 * 1024 * 1024]);
    assertThat(grown.status()).isEqualTo(413);
  }

  /** Results no HTTP response may carry as they are: every one is Lambda's 502, and the connection stays usable. */
  private static List<Map<String, Object>> unsendableResults() {
    return List.of(
        Map.of("statusCode", 100, "body", "interim"),
        Map.of("statusCode", 101, "headers", Map.of("Upgrade", "websocket"), "body", "switching"),
        Map.of("statusCode", 103, "body", "early hints"),
        Map.of("statusCode", 199, "body", "informational"),
        Map.of("statusCode", 600, "body", "beyond"),
        Map.of("statusCode", 200, "headers", Map.of("X-Bad", "a\r\nInjected: yes"), "body", "x"),
        Map.of("statusCode", 200, "headers", Map.of("X-Bad\r\nInjected", "yes"), "body", "x"),
        Map.of("statusCode", 200, "headers", Map.of("X Bad", "space in the name"), "body", "x"),
        Map.of("statusCode", 200, "headers", Map.of("", "empty name"), "body", "x"),
        Map.of("statusCode", 200, "headers", Map.of("X-Bad", "nul\u0000byte"), "body", "x"),
        Map.of("statusCode", 200, "headers", Map.of("X-Bad", "bell\u0007"), "body", "x"),
        Map.of("statusCode", 200, "headers", Map.of("X-Bad", "del\u007f"), "body", "x"),
        Map.of("statusCode", 200, "headers", Map.of("X-Bad", "caf\u00e9 is not ASCII"), "body", "x"),
        Map.of("statusCode", 200, "headers", Map.of("Set-Cookie", "a=b\nInjected: yes"), "body", "x"),
        Map.of("statusCode", 200, "cookies", List.of("ok=1", "a=b\r\nInjected: yes"), "body", "x"));
  }

  @Test
  void a_result_no_http_response_can_carry_is_a_502_and_the_connection_stays_in_step() {
    List<String> urls = new ArrayList<>();
    for (var result : unsendableResults()) {
      urls.add(told(toldUrl, result));
      urls.add(told(toldUrl, Map.of("statusCode", 200, "body", "next")));
    }
    Curl.Sequence sequence = curl.getInTurn(urls);
    assertThat(sequence.responses()).hasSize(urls.size());
    for (int i = 0; i < urls.size(); i += 2) {
      Curl.Response bad = sequence.responses().get(i);
      Curl.Response next = sequence.responses().get(i + 1);
      var result = unsendableResults().get(i / 2);
      assertThat(bad.status()).as("%s gave %s", result, bad).isEqualTo(502);
      assertThat(bad.text()).as("%s", result).isEqualTo("Internal Server Error");
      assertThat(bad.headers()).as("%s", result).doesNotContainKeys("injected", "x-bad", "upgrade");
      assertThat(next.status()).as("the request after %s: %s", result, next).isEqualTo(200);
      assertThat(next.text()).isEqualTo("next");
    }
    assertThat(sequence.newConnections().subList(1, urls.size())).as("every request after the first reused its"
        + " connection").containsOnly(0);
  }

  @Test
  void body_less_statuses_send_no_body_and_header_values_lose_their_outer_blanks() {
    Curl.Sequence sequence = curl.getInTurn(List.of(
        told(toldUrl, Map.of("statusCode", 204, "headers", Map.of("X-Kept", "yes"), "body", "dropped")),
        told(toldUrl, Map.of("statusCode", 304, "body", "dropped")),
        told(toldUrl, Map.of("statusCode", 200, "headers", Map.of("X-Tab", "a\tb", "X-Padded", "  padded \t",
            "X-Empty", ""), "body", "padded")),
        told(toldUrl, Map.of("statusCode", 200, "body", "next"))));
    List<Curl.Response> responses = sequence.responses();
    assertThat(responses.get(0).status()).isEqualTo(204);
    assertThat(responses.get(0).header("X-Kept")).isEqualTo("yes");
    assertThat(responses.get(0).body()).isEmpty();
    assertThat(responses.get(1).status()).isEqualTo(304);
    assertThat(responses.get(1).body()).isEmpty();
    assertThat(responses.get(2).header("X-Tab")).isEqualTo("a\tb");
    assertThat(responses.get(2).header("X-Padded")).isEqualTo("padded");
    assertThat(responses.get(2).text()).isEqualTo("padded");
    assertThat(responses.get(3).text()).as("a body sent after a 204 or 304 would show up here").isEqualTo("next");
    assertThat(sequence.newConnections().subList(1, 4)).containsOnly(0);
  }

  @Test
  void a_head_request_gets_the_head_only_and_the_connection_stays_in_step() {
    String host = URI.create(toldUrl).getAuthority();
    String streamHost = URI.create(toldStreamUrl).getAuthority();
    // A body that poses as a response: after a HEAD it would be read as the answer to the next request.
    String posing = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged";
    String answer = URI.create(told(toldUrl, Map.of("statusCode", 200, "body", posing))).getRawQuery();
    String streamed = URI.create(toldStream(toldStreamUrl, Map.of("statusCode", 200), posing)).getRawQuery();
    String fine = URI.create(told(toldUrl, Map.of("statusCode", 200, "body", "fine"))).getRawQuery();
    List<RawHttp.Response> responses = RawHttp.inTurn(server.port(),
        "HEAD /?" + answer + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n",
        "GET /?" + fine + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n",
        "HEAD /?" + streamed + " HTTP/1.1\r\nHost: " + streamHost + "\r\n\r\n",
        "GET /?" + fine + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n",
        "HEAD /2015-03-31/nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET /?" + fine + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    assertThat(responses.get(0).status()).isEqualTo(200);
    assertThat(responses.get(1).body()).isEqualTo("fine");
    assertThat(responses.get(2).status()).isEqualTo(200);
    assertThat(responses.get(3).body()).isEqualTo("fine");
    assertThat(responses.get(4).status()).as("the API's answer to a HEAD").isEqualTo(404);
    assertThat(responses.get(4).header("x-amzn-ErrorType")).isEqualTo("UnknownOperationException");
    assertThat(responses.get(5).body()).isEqualTo("fine");
  }

  @Test
  void a_streamed_prelude_no_http_response_can_carry_is_a_502_and_the_connection_stays_in_step() {
    List<String> urls = new ArrayList<>();
    for (var result : unsendableResults()) {
      var prelude = new java.util.LinkedHashMap<String, Object>(result);
      prelude.remove("body");
      urls.add(toldStream(toldStreamUrl, prelude, "streamed body"));
      urls.add(toldStream(toldStreamUrl, Map.of("statusCode", 200), "next"));
    }
    urls.add(toldStream(toldStreamUrl, Map.of("statusCode", 204), "dropped"));
    urls.add(toldStream(toldStreamUrl, Map.of("statusCode", 200), "after no content"));
    Curl.Sequence sequence = curl.getInTurn(urls);
    assertThat(sequence.responses()).hasSize(urls.size());
    for (int i = 0; i < urls.size() - 2; i += 2) {
      Curl.Response bad = sequence.responses().get(i);
      Curl.Response next = sequence.responses().get(i + 1);
      var result = unsendableResults().get(i / 2);
      assertThat(bad.status()).as("%s gave %s", result, bad).isEqualTo(502);
      assertThat(bad.text()).as("%s", result).isEqualTo("Internal Server Error");
      assertThat(next.status()).as("the request after %s: %s", result, next).isEqualTo(200);
      assertThat(next.text()).isEqualTo("next");
    }
    Curl.Response noContent = sequence.responses().get(urls.size() - 2);
    assertThat(noContent.status()).isEqualTo(204);
    assertThat(noContent.body()).isEmpty();
    assertThat(sequence.responses().getLast().text()).isEqualTo("after no content");
    assertThat(sequence.newConnections().subList(1, urls.size())).containsOnly(0);
  }

  @Test
  void a_response_stream_reaches_the_client_while_the_function_writes() throws Exception {
    long started = System.nanoTime();
    var response = jdk.sendAsync(HttpRequest.newBuilder(URI.create(pathForm(streamUrl, "/?gap=700"))).GET().build(),
        HttpResponse.BodyHandlers.ofInputStream()).get(60, TimeUnit.SECONDS);
    assertThat(response.statusCode()).isEqualTo(203);
    assertThat(response.headers().firstValue("Content-Type")).contains("text/plain");
    assertThat(response.headers().firstValue("X-Streamed")).contains("yes");
    assertThat(response.headers().allValues("Set-Cookie")).containsExactly("streamed=1");
    assertThat(response.headers().firstValue("Transfer-Encoding")).contains("chunked");
    List<Long> arrivals = new ArrayList<>();
    var body = CompletableFuture.supplyAsync(() -> readAll(response.body(), arrivals))
        .get(60, TimeUnit.SECONDS);
    long ended = System.nanoTime();
    assertThat(body).isEqualTo("chunk-1;chunk-2;chunk-3;");
    // chunk-1 was written 1.4 s before the function ended: it must arrive well before the end. A
    // buffered answer would bring it at the end; on a loaded machine it has been seen to come with
    // chunk-2 (0.7 s later) instead, so the bound allows one gap of lag and still tells the two apart.
    long firstMs = (arrivals.getFirst() - started) / 1_000_000;
    long totalMs = (ended - started) / 1_000_000;
    assertThat(totalMs - firstMs).as("first chunk at %d ms of %d ms", firstMs, totalMs).isGreaterThan(450);

    Curl.Response plain = curl.get(streamUrl + "plain");
    assertThat(plain.status()).isEqualTo(200);
    assertThat(plain.header("Content-Type")).isEqualTo("text/csv");
    assertThat(plain.text()).isEqualTo("a,b\n1,2\n");

    Curl.Response failed = curl.get(streamUrl + "fail");
    assertThat(failed.status()).isEqualTo(502);
    assertThat(failed.text()).isEqualTo("Internal Server Error");
  }

  @Test
  void a_buffered_function_behind_a_streaming_url_answers_whole() {
    lambda.createAlias(b -> b.functionName(echo).name("streamed").functionVersion("$LATEST"));
    String url = lambda.createFunctionUrlConfig(b -> b.functionName(echo).qualifier("streamed")
        .authType(FunctionUrlAuthType.NONE).invokeMode(InvokeMode.RESPONSE_STREAM)).functionUrl();
    Curl.Response response = curl.get(url + "object");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().path("hello").asString()).isEqualTo("world");
  }

  private static String readAll(InputStream in, List<Long> arrivals) {
    try (in) {
      var out = new ByteArrayOutputStream();
      var buffer = new byte[8192];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        arrivals.add(System.nanoTime());
        out.write(buffer, 0, n);
      }
      return out.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private Curl.Response signedCurl(String method, String url, byte[] body, String secret) {
    return signedCurl(method, url, body, secret, body);
  }

  /**
   * Signs a request to a URL's host form with the AWS SDK's own SigV4 signer (service lambda),
   * then sends {@code sentBody} with curl, which sets the same Host header from the URL.
   */
  private Curl.Response signedCurl(String method, String url, byte[] signedBody, String secret, byte[] sentBody) {
    SdkHttpRequest request = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(URI.create(url))
        .putHeader("Content-Type", "application/json").build();
    var signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(AwsCredentialsIdentity.create(accessKey, secret))
        .request(request)
        .payload(ContentStreamProvider.fromByteArray(signedBody))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
        .putProperty(AwsV4HttpSigner.REGION_NAME, REGION));
    List<String> headers = new ArrayList<>();
    signed.request().forEachHeader((name, values) -> {
      if (!name.equalsIgnoreCase("host")) {
        values.forEach(v -> headers.add(name + ": " + v));
      }
    });
    return curl.send(method, url, headers, sentBody);
  }
}
