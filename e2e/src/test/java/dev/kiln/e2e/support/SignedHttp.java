package dev.kiln.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Raw HTTP requests to a Kiln server, signed with the AWS SDK's own SigV4 signer: for what the CLI
 * and the SDK will not send (malformed bodies, skewed clocks, tampered payloads, huge bodies).
 */
public final class SignedHttp {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  /** Headers java.net.http sets itself and refuses to take from the caller. */
  private static final Set<String> RESTRICTED = Set.of("host", "content-length", "connection", "expect");

  private final String endpoint;
  private final String accessKey;
  private final String secretKey;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  public SignedHttp(String endpoint, String accessKey, String secretKey) {
    this.endpoint = endpoint;
    this.accessKey = accessKey;
    this.secretKey = secretKey;
  }

  /** Sends a request signed now, over the body it sends. */
  public Response send(String method, String pathAndQuery, byte[] body) {
    return send(method, pathAndQuery, body, body, Clock.systemUTC());
  }

  public Response send(String method, String pathAndQuery, String jsonBody) {
    byte[] body = jsonBody == null ? null : jsonBody.getBytes(StandardCharsets.UTF_8);
    return send(method, pathAndQuery, body);
  }

  /**
   * Signs {@code signedBody} with the given signing clock, then sends {@code sentBody} (the same
   * array for an honest request).
   */
  public Response send(
      String method, String pathAndQuery, byte[] signedBody, byte[] sentBody, Clock clock) {
    return send(method, pathAndQuery, signedBody, sentBody, clock, Map.of());
  }

  /** Sends a request signed now with extra headers (signed too), e.g. X-Amz-Invocation-Type. */
  public Response send(String method, String pathAndQuery, String jsonBody, Map<String, String> headers) {
    byte[] body = jsonBody == null ? null : jsonBody.getBytes(StandardCharsets.UTF_8);
    return send(method, pathAndQuery, body, body, Clock.systemUTC(), headers);
  }

  private Response send(
      String method,
      String pathAndQuery,
      byte[] signedBody,
      byte[] sentBody,
      Clock clock,
      Map<String, String> headers) {
    SdkHttpRequest.Builder request =
        SdkHttpRequest.builder()
            .method(SdkHttpMethod.fromValue(method))
            .uri(URI.create(endpoint + pathAndQuery));
    if (signedBody != null) {
      request.putHeader("Content-Type", "application/json");
    }
    headers.forEach(request::putHeader);
    SignedRequest signed =
        AwsV4HttpSigner.create()
            .sign(
                r -> {
                  r.identity(AwsCredentialsIdentity.create(accessKey, secretKey))
                      .request(request.build())
                      .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
                      .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                      .putProperty(AwsV4HttpSigner.SIGNING_CLOCK, clock);
                  if (signedBody != null) {
                    r.payload(ContentStreamProvider.fromByteArray(signedBody));
                  }
                });
    HttpRequest.Builder out =
        HttpRequest.newBuilder(signed.request().getUri()).timeout(Duration.ofSeconds(120));
    signed
        .request()
        .forEachHeader(
            (name, values) -> {
              if (!RESTRICTED.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                values.forEach(v -> out.header(name, v));
              }
            });
    out.method(
        method,
        sentBody == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(sentBody));
    return sendRaw(out.build());
  }

  /** Sends a request as is (unsigned, or signed by the caller). */
  public Response sendRaw(HttpRequest request) {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      return new Response(response.statusCode(), response.headers().map(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException("HTTP " + request.method() + " " + request.uri() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** GET without any credentials, as bytes (for Code.Location). */
  public byte[] download(String url) {
    try {
      HttpResponse<byte[]> response =
          http.send(
              HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).GET().build(),
              HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() != 200) {
        throw new AssertionError(
            "GET "
                + url
                + " returned HTTP "
                + response.statusCode()
                + ": "
                + new String(response.body(), StandardCharsets.UTF_8));
      }
      return response.body();
    } catch (IOException e) {
      throw new UncheckedIOException("GET " + url + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** One HTTP response. */
  public record Response(int status, Map<String, List<String>> headers, String body) {
    public String header(String name) {
      return headers.entrySet().stream()
          .filter(e -> e.getKey().equalsIgnoreCase(name))
          .flatMap(e -> e.getValue().stream())
          .findFirst()
          .orElse(null);
    }

    /** The error type from x-amzn-ErrorType, without any ":..." suffix AWS may append. */
    public String errorType() {
      String type = header("x-amzn-ErrorType");
      if (type == null) {
        return null;
      }
      int colon = type.indexOf(':');
      return colon < 0 ? type : type.substring(0, colon);
    }

    public JsonNode json() {
      return JSON.readTree(body);
    }

    @Override
    public String toString() {
      return "HTTP " + status + " headers=" + headers + " body=" + body;
    }
  }
}
