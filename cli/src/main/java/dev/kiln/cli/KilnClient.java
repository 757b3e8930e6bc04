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
    return send(SdkHttpMethod.GET, pathAndQuery, new byte[0]);
  }

  /** A signed POST of a JSON document; returns the JSON reply or throws with the server's message. */
  JsonNode post(String path, Object document) throws IOException, InterruptedException {
    return send(SdkHttpMethod.POST, path, JSON.writeValueAsBytes(document));
  }

  private JsonNode send(SdkHttpMethod method, String pathAndQuery, byte[] payload)
      throws IOException, InterruptedException {
    var unsignedBuilder = SdkHttpFullRequest.builder().method(method).uri(endpoint.resolve(pathAndQuery));
    if (payload.length > 0) {
      unsignedBuilder.putHeader("Content-Type", "application/json");
    }
    var unsigned = unsignedBuilder.build();
    var signed = AwsV4HttpSigner.create().sign(r -> r
        .identity(credentials)
        .request(unsigned)
        .payload(() -> new ByteArrayInputStream(payload))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
        .putProperty(AwsV4HttpSigner.REGION_NAME, region));
    var request = HttpRequest.newBuilder(signed.request().getUri())
        .method(method.name(), payload.length == 0 ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(payload))
        .timeout(Duration.ofSeconds(60));
    signed.request().headers().forEach((name, values) -> {
      if (!name.equalsIgnoreCase("host") && !name.equalsIgnoreCase("content-length")) {
        values.forEach(v -> request.header(name, v));
      }
    });
    var response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    var body = response.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(response.body());
    if (response.statusCode() >= 300) {
      var message = body.path("message").asString(body.toString());
      throw new IOException(response.headers().firstValue("x-amzn-ErrorType").orElse("HTTP " + response.statusCode())
          + ": " + message);
    }
    return body;
  }
}
