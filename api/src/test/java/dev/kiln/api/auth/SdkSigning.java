package dev.kiln.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import dev.kiln.core.Credential;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/** Test support: signs requests with the real AWS SDK for Java v2 signer and checks outcomes. */
final class SdkSigning {
  static final String ACCESS_KEY = "AKIDEXAMPLE";
  static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  static final Credential CREDENTIAL = new Credential(ACCESS_KEY, SECRET, "123456789012");
  static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");

  static final String ARN = "arn:aws:lambda:us-east-1:123456789012:function:f";

  /** The ARN as both botocore and the Java SDK put it in a path: every ':' escaped. */
  static final String ENCODED_ARN = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af";

  static {
    // The SDK signer logs each canonical request at DEBUG; the tests sign thousands.
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("software.amazon.awssdk"))
        .setLevel(Level.INFO);
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.kiln.api.auth"))
        .setLevel(Level.INFO);
  }

  private SdkSigning() {}

  static Clock clockAt(Instant instant) {
    return Clock.fixed(instant, ZoneOffset.UTC);
  }

  static SigV4Verifier verifier(Instant now, Credential... known) {
    Map<String, Credential> byKey = new LinkedHashMap<>();
    for (Credential c : known) {
      byKey.put(c.accessKeyId(), c);
    }
    return new SigV4Verifier(key -> Optional.ofNullable(byKey.get(key)), clockAt(now));
  }

  static SigV4Verifier verifier(Instant now) {
    return verifier(now, CREDENTIAL);
  }

  static SdkHttpFullRequest.Builder request(SdkHttpMethod method, String encodedPath) {
    return SdkHttpFullRequest.builder()
        .method(method)
        .protocol("http")
        .host("127.0.0.1")
        .port(9000)
        .encodedPath(encodedPath);
  }

  /** Signs as the Lambda client does: service lambda, us-east-1, at {@code at}. */
  static SdkHttpRequest sign(SdkHttpFullRequest request, byte[] body, Instant at) {
    return sign(request, body, at, r -> {});
  }

  static SdkHttpRequest sign(
      SdkHttpFullRequest request,
      byte[] body,
      Instant at,
      Consumer<SignRequest.Builder<AwsCredentialsIdentity>> extra) {
    return AwsV4HttpSigner.create()
        .sign(
            (SignRequest.Builder<AwsCredentialsIdentity> r) -> {
              r.identity(AwsBasicCredentials.create(ACCESS_KEY, SECRET))
                  .request(request)
                  .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "lambda")
                  .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                  .putProperty(AwsV4HttpSigner.SIGNING_CLOCK, clockAt(at));
              if (body != null) {
                r.payload(ContentStreamProvider.fromByteArray(body));
              }
              extra.accept(r);
            })
        .request();
  }

  /** The request as the server sees it: wire path and query, the SDK's header map, the body. */
  static SignedRequest received(SdkHttpRequest signed, byte[] body) {
    return SignedRequest.withBody(
        signed.method().name(),
        signed.encodedPath(),
        signed.getUri().getRawQuery(),
        signed.headers(),
        body);
  }

  /** The same headers in a plain map with the given names' case kept, as a server might pass. */
  static Map<String, List<String>> plainHeaders(Map<String, List<String>> headers) {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    headers.forEach((k, v) -> copy.put(k, new ArrayList<>(v)));
    return copy;
  }

  static SignedRequest withHeaders(SignedRequest r, Map<String, List<String>> headers) {
    return new SignedRequest(r.method(), r.rawPath(), r.rawQuery(), headers, r.payloadSha256Hex());
  }

  static SignedRequest withHeader(SignedRequest r, String name, String... values) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    r.headers()
        .forEach(
            (k, v) -> {
              if (!k.equalsIgnoreCase(name)) {
                headers.put(k, v);
              }
            });
    if (values.length > 0) {
      headers.put(name, List.of(values));
    }
    return withHeaders(r, headers);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static KilnException failure(SigV4Verifier verifier, SignedRequest request) {
    KilnException e = catchThrowableOfType(KilnException.class, () -> verifier.verify(request));
    assertThat(e).as("verification should fail").isNotNull();
    return e;
  }

  /** Asserts the request fails with {@code code} (and its 403) and returns the message. */
  static String rejected(SigV4Verifier verifier, SignedRequest request, ErrorCode code) {
    KilnException e = failure(verifier, request);
    assertThat(e.code()).isEqualTo(code);
    assertThat(e.code().status()).isEqualTo(403);
    return e.getMessage();
  }

  /**
   * Parses a request written as on the wire: the request line, header lines, an empty line, then
   * the body as UTF-8 (a text block's final newline is not part of it).
   */
  static SignedRequest parseWire(String wire) {
    int split = wire.indexOf("\n\n");
    String head = split < 0 ? wire : wire.substring(0, split);
    String body = split < 0 ? "" : wire.substring(split + 2);
    if (body.endsWith("\n")) {
      body = body.substring(0, body.length() - 1);
    }
    String[] lines = head.split("\n");
    String[] requestLine = lines[0].split(" ");
    String target = requestLine[1];
    int q = target.indexOf('?');
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers
          .computeIfAbsent(lines[i].substring(0, colon), k -> new ArrayList<>())
          .add(lines[i].substring(colon + 1).strip());
    }
    return SignedRequest.withBody(
        requestLine[0],
        q < 0 ? target : target.substring(0, q),
        q < 0 ? null : target.substring(q + 1),
        headers,
        utf8(body));
  }
}
