package dev.kiln.bench;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/** SigV4 signing of raw requests with the AWS SDK's own signer, as the SDK signs a Lambda call. */
final class Signer {
  private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
  private final AwsCredentialsIdentity identity;
  private final String region;

  Signer(String accessKey, String secretKey, String region) {
    this.identity = AwsCredentialsIdentity.create(accessKey, secretKey);
    this.region = region;
  }

  /**
   * Signs a request with the given headers and body; returns every header to send, Host and
   * Authorization included, in the signer's order (Content-Length is left to the caller).
   */
  List<Map.Entry<String, String>> sign(String method, URI uri, Map<String, String> headers, byte[] body) {
    SdkHttpRequest.Builder request = SdkHttpRequest.builder().method(SdkHttpMethod.fromValue(method)).uri(uri);
    headers.forEach(request::putHeader);
    SignedRequest signed = signer.sign(r -> r.identity(identity)
        .request(request.build())
        .payload(ContentStreamProvider.fromByteArrayUnsafe(body))
        .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
        .putProperty(AwsV4HttpSigner.REGION_NAME, region));
    List<Map.Entry<String, String>> out = new ArrayList<>();
    signed.request().forEachHeader((name, values) -> values.forEach(v -> out.add(Map.entry(name, v))));
    if (signed.request().firstMatchingHeader("Host").isEmpty()) {
      int port = uri.getPort();
      out.addFirst(Map.entry("Host", uri.getHost() + (port < 0 ? "" : ":" + port)));
    }
    return out;
  }
}
