package dev.kiln.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Signed calls from the kiln CLI to a Kiln node. Credentials come from AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY, else from the node's credentials file under the data directory.
 */
final class KilnClient {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final URI endpoint;
  private final AwsCredentialsIdentity credentials;
  private final String region;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  KilnClient(URI endpoint, AwsCredentialsIdentity credentials, String region) {
    this.endpoint = endpoint;
    this.credentials = credentials;
    this.region = region;
  }

  static KilnClient from(String endpoint, Path dataDir) throws IOException {
    var key = System.getenv("AWS_ACCESS_KEY_ID");
    var secret = System.getenv("AWS_SECRET_ACCESS_KEY");
    String region = System.getenv().getOrDefault("AWS_REGION", "us-east-1");
    if (key == null || secret == null) {
      var file = dataDir.resolve("credentials");
      if (!Files.exists(file)) {
        throw new IOException("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where "
            + file + " exists (kiln up writes it)");
      }
      for (var line : Files.readAllLines(file)) {
        var parts = line.split("=", 2);
        if (parts.length == 2 && parts[0].trim().equals("aws_access_key_id")) {
          key = parts[1].trim();
        } else if (parts.length == 2 && parts[0].trim().equals("aws_secret_access_key")) {
          secret = parts[1].trim();
        }
      }
    }
    return new KilnClient(URI.create(endpoint), AwsCredentialsIdentity.create(key, secret), region);
  }

  /** A signed GET of {@code pathAndQuery}; returns the JSON reply or throws with the server's message. */
  JsonNode get(String pathAndQuery) throws IOException, InterruptedException {
    return send("GET", pathAndQuery, null);
  }

  /** A signed POST of a JSON document; returns the JSON reply or throws with the server's message. */
  JsonNode post(String path, Object document) throws IOException, InterruptedException {
    return send("POST", path, JSON.writeValueAsBytes(document));
  }

  /** {@link #send} with a JSON document as the body (or none when null). */
  JsonNode sendJson(String method, String pathAndQuery, JsonNode body) throws IOException, InterruptedException {
    return send(method, pathAndQuery, body == null ? null : JSON.writeValueAsBytes(body));
  }

  /**
   * A signed request with an optional JSON body; returns the JSON reply (an empty object for an
   * empty one) or throws with the server's error type and message.
   */
  JsonNode send(String method, String pathAndQuery, byte[] jsonBody) throws IOException, InterruptedException {
    byte[] body = jsonBody == null ? new byte[0] : jsonBody;
    var unsignedBuilder = SdkHttpFullRequest.builder().method(SdkHttpMethod.fromValue(method))
        .uri(endpoint.resolve(pathAndQuery));
    if (jsonBody != null) {
      unsignedBuilder.putHeader("Content-Type", "application/json");
    }
    var unsigned = unsignedBuilder.build();
    var signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(credentials)
        .request(unsigned)
        .payload(() -> new ByteArrayInputStream(body))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
        .putProperty(AwsV4HttpSigner.REGION_NAME, region));
    var request = HttpRequest.newBuilder(signed.request().getUri())
        .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body))
        .timeout(Duration.ofSeconds(60));
    signed.request().headers().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("host") && !name.equalsIgnoreCase("content-length")) {
        values.forEach(v -> request.header(name, v));
      }
    });
    var response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    var reply = response.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(response.body());
    if (response.statusCode() >= 300) {
      var message = reply.path("message").asString(reply.toString());
      throw new IOException(response.headers().firstValue("x-amzn-ErrorType").orElse("HTTP " + response.statusCode())
          + ": " + message);
    }
    return reply;
  }
}
