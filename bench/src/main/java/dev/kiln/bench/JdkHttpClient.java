package dev.kiln.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** java.net.http (HTTP/1.1) with the SDK's SigV4 signer: the JDK's own client, for comparison. */
final class JdkHttpClient implements InvokeClient {
  private static final Set<String> RESTRICTED = Set.of("host", "content-length", "connection", "expect");
  private final URI endpoint;
  private final Signer signer;
  private final HttpClient http;

  JdkHttpClient(URI endpoint, Signer signer) {
    this.endpoint = endpoint;
    this.signer = signer;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
  }

  @Override
  public String name() {
    return "java.net.http";
  }

  @Override
  public Reply invoke(String function, byte[] payload, boolean tailLog) throws IOException {
    URI uri = endpoint.resolve(InvokeClient.invokePath(function));
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    headers.put("X-Amz-Invocation-Type", "RequestResponse");
    if (tailLog) {
      headers.put("X-Amz-Log-Type", "Tail");
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
        .POST(HttpRequest.BodyPublishers.ofByteArray(payload));
    for (var h : signer.sign("POST", uri, headers, payload)) {
      if (!RESTRICTED.contains(h.getKey().toLowerCase(Locale.ROOT))) {
        request.header(h.getKey(), h.getValue());
      }
    }
    try {
      HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      return new Reply(response.statusCode(), response.body(),
          response.headers().firstValue("X-Amz-Function-Error").orElse(null),
          response.headers().firstValue("X-Amz-Log-Result").orElse(null));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  @Override
  public void close() {
    http.close();
  }
}
