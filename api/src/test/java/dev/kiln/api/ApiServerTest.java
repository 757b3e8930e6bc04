package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.api.auth.SignedRequest;
import dev.kiln.api.auth.SigV4Verifier;
import dev.kiln.api.json.Json;
import dev.kiln.control.ControlPlane;
import dev.kiln.core.Credential;
import dev.kiln.core.Region;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreConfig;
import dev.kiln.store.Stores;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;

/** The HTTP front end over a real socket: routing, body limits, media types and Lambda's error shape. */
class ApiServerTest {
  private static final Credential CALLER = new Credential("AKIDTEST", "secret", "123456789012");

  @TempDir static Path dir;
  private static MetadataStore store;
  private static ApiServer api;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    store = Stores.open(new StoreConfig.Sqlite(dir.resolve("kiln.db")));
    var control = new ControlPlane(store, new CodeStore(dir.resolve("code")), Region.DEFAULT, Clock.systemUTC(),
        v -> {});
    var verifier = new SigV4Verifier(key -> key.equals(CALLER.accessKeyId()) ? Optional.of(CALLER) : Optional.empty(),
        Clock.systemUTC());
    var settings = new ApiSettings("127.0.0.1", 0, new byte[32], 1000);
    api = ApiServer.start(settings,
        call -> verifier.verify(SignedRequest.withBody(call.method(), call.rawPath(), call.rawQuery(),
            call.headersIgnoringCase(), call.body())),
        java.util.List.of(ApiServer.controlPlane(settings, control, Clock.systemUTC(), (account, function) -> {})));
  }

  @AfterAll
  static void stop() {
    api.close();
    store.close();
  }

  @Test
  void errorsCarryLambdasShapeAndHeader() throws Exception {
    var response = send("GET", "/2015-03-31/functions/missing", null, null);
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.headers().firstValue("x-amzn-ErrorType")).hasValue("ResourceNotFoundException");
    var body = Json.MAPPER.readTree(response.body());
    assertThat(body.get("Type").asString()).isEqualTo("User");
    assertThat(body.get("message").asString()).contains("Function not found");
    assertThat(body.get("Message").asString()).isEqualTo(body.get("message").asString());
  }

  @Test
  void malformedJsonAndWrongTypesAreInvalidRequestContent() throws Exception {
    var malformed = send("POST", "/2015-03-31/functions", "{\"FunctionName\": ", "application/json");
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.headers().firstValue("x-amzn-ErrorType")).hasValue("InvalidRequestContentException");
    var wrongType = send("POST", "/2015-03-31/functions", "{\"FunctionName\":\"f\",\"MemorySize\":\"big\","
        + "\"Code\":{\"ZipFile\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\"}}", "application/json");
    assertThat(wrongType.statusCode()).isEqualTo(400);
    assertThat(Json.MAPPER.readTree(wrongType.body()).get("message").asString()).contains("MemorySize");
    assertThat(wrongType.body()).doesNotContain("Exception:", "at dev.kiln");
  }

  @Test
  void aBodyThatIsNotJsonIsAnUnsupportedMediaType() throws Exception {
    var response = send("POST", "/2015-03-31/functions", "<xml/>", "application/xml");
    assertThat(response.statusCode()).isEqualTo(415);
    assertThat(response.headers().firstValue("x-amzn-ErrorType")).hasValue("UnsupportedMediaTypeException");
  }

  @Test
  void aBodyOverTheLimitIsRequestTooLarge() throws Exception {
    var tooLarge = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + "/2015-03-31/functions"))
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[(int) dev.kiln.core.Limits.MAX_REQUEST_BODY_BYTES + 1]))
        .header("Content-Type", "application/json")
        .build();
    var response = http.send(tooLarge, HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(response.headers().firstValue("x-amzn-ErrorType")).hasValue("RequestTooLargeException");
  }

  @Test
  void unknownOperationsAndUnsignedCallsGetLambdaErrors() throws Exception {
    var unknown = send("GET", "/2099-01-01/nothing", null, null);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.headers().firstValue("x-amzn-ErrorType")).hasValue("UnknownOperationException");
    var unsigned = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port()
        + "/2015-03-31/functions/")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(unsigned.statusCode()).isEqualTo(403);
    assertThat(unsigned.headers().firstValue("x-amzn-ErrorType")).hasValue("MissingAuthenticationTokenException");
  }

  @Test
  void codeLinksRefuseTamperedSignatures() throws Exception {
    var response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port()
        + "/kiln/code/123456789012/" + "a".repeat(64) + ".zip?expires=9999999999&signature=00")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(response.headers().firstValue("x-amzn-ErrorType")).hasValue("AccessDeniedException");
  }

  private static HttpResponse<String> send(String method, String path, String body, String contentType)
      throws Exception {
    var bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    var unsigned = SdkHttpFullRequest.builder()
        .method(SdkHttpMethod.fromValue(method))
        .uri(URI.create("http://127.0.0.1:" + api.port() + path));
    if (contentType != null) {
      unsigned.putHeader("Content-Type", contentType);
    }
    var signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(AwsBasicCredentials.create(CALLER.accessKeyId(), CALLER.secretAccessKey()))
        .request(unsigned.build())
        .payload(() -> new ByteArrayInputStream(bytes))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
        .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1"));
    var request = HttpRequest.newBuilder(signed.request().getUri())
        .method(method, bytes.length == 0 ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(bytes));
    signed.request().headers().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("host") && !name.equalsIgnoreCase("content-length")) {
        values.forEach(v -> request.header(name, v));
      }
    });
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
