package dev.kiln.api.auth;

import static dev.kiln.api.auth.SdkSigning.ACCESS_KEY;
import static dev.kiln.api.auth.SdkSigning.CREDENTIAL;
import static dev.kiln.api.auth.SdkSigning.ENCODED_ARN;
import static dev.kiln.api.auth.SdkSigning.T0;
import static dev.kiln.api.auth.SdkSigning.plainHeaders;
import static dev.kiln.api.auth.SdkSigning.received;
import static dev.kiln.api.auth.SdkSigning.rejected;
import static dev.kiln.api.auth.SdkSigning.request;
import static dev.kiln.api.auth.SdkSigning.sign;
import static dev.kiln.api.auth.SdkSigning.utf8;
import static dev.kiln.api.auth.SdkSigning.verifier;
import static dev.kiln.api.auth.SdkSigning.withHeader;
import static dev.kiln.api.auth.SdkSigning.withHeaders;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.Credential;
import dev.kiln.core.ErrorCode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;

/** {@link SigV4Verifier} against requests signed by the real AWS SDK for Java v2 signer. */
class SigV4VerifierTest {
  private static final byte[] NO_BODY = null;
  private static final byte[] JSON = utf8("{\"Tags\":{\"team\":\"kiln\",\"env\":\"a  b\"}}");

  private static SignedRequest signedGet(String encodedPath) {
    SdkHttpFullRequest req = request(SdkHttpMethod.GET, encodedPath).build();
    return received(sign(req, NO_BODY, T0), NO_BODY);
  }

  private static SignedRequest signedJsonPost() {
    SdkHttpFullRequest req =
        request(SdkHttpMethod.POST, "/2017-03-31/tags/" + ENCODED_ARN)
            .putHeader("Content-Type", "application/json")
            .putHeader("Content-Length", String.valueOf(JSON.length))
            .build();
    return received(sign(req, JSON, T0), JSON);
  }

  @Nested
  class Accepts {
    @Test
    void getWithAnEncodedArnInThePath() {
      SignedRequest r = signedGet("/2017-03-31/tags/" + ENCODED_ARN);
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
    }

    @Test
    void latestQualifierEncodedInThePath() {
      SignedRequest r =
          signedGet("/2015-03-31/functions/" + ENCODED_ARN + "%3A%24LATEST/configuration");
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
    }

    @Test
    void latestQualifierLeftRawInThePath() {
      // A hand-written client may leave '$' unescaped on the wire; both sides then sign %24.
      SignedRequest r = signedGet("/2015-03-31/functions/f/versions/$LATEST");
      assertThat(r.rawPath()).contains("$LATEST");
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
    }

    @Test
    void latestQualifierInTheQuery() {
      SdkHttpFullRequest req =
          request(SdkHttpMethod.POST, "/2015-03-31/functions/f/invocations")
              .appendRawQueryParameter("Qualifier", "$LATEST")
              .build();
      SignedRequest r = received(sign(req, JSON, T0), JSON);
      assertThat(r.rawQuery()).isEqualTo("Qualifier=%24LATEST");
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
    }

    @Test
    void postWithJsonBodyAndContentSha256Header() {
      SignedRequest r = signedJsonPost();
      assertThat(r.headers()).containsKey("x-amz-content-sha256");
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
    }

    @Test
    void repeatedQueryKeysAndCharactersThatNeedEncoding() {
      SdkHttpFullRequest req =
          request(SdkHttpMethod.DELETE, "/2017-03-31/tags/" + ENCODED_ARN)
              .appendRawQueryParameter("tagKeys", "b")
              .appendRawQueryParameter("tagKeys", "a")
              .appendRawQueryParameter("tagKeys", "a b+c/d&e=f")
              .appendRawQueryParameter("tagKeys", "gr\u00fc\u00df \u65e5\u672c")
              .appendRawQueryParameter("tagKeys", "~x_y.z-")
              .appendRawQueryParameter("Marker", "")
              .build();
      SignedRequest r = received(sign(req, NO_BODY, T0), NO_BODY);
      assertThat(r.rawQuery()).contains("tagKeys=b").contains("tagKeys=a%20b%2Bc%2Fd%26e%3Df");
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
    }

    @Test
    void queryParameterWithoutEqualsSignCountsAsEmptyValue() {
      SdkHttpFullRequest req =
          request(SdkHttpMethod.GET, "/2015-03-31/functions")
              .appendRawQueryParameter("flag", "")
              .appendRawQueryParameter("MaxItems", "5")
              .build();
      SignedRequest signed = received(sign(req, NO_BODY, T0), NO_BODY);
      SigV4Verifier verifier = verifier(T0);
      assertThat(verifier.verify(signed)).isEqualTo(CREDENTIAL);
      for (String wire : List.of("flag&MaxItems=5", "MaxItems=5&flag", "MaxItems=5&flag=")) {
        SignedRequest r =
            new SignedRequest(
                signed.method(),
                signed.rawPath(),
                wire,
                signed.headers(),
                signed.payloadSha256Hex());
        assertThat(verifier.verify(r)).as(wire).isEqualTo(CREDENTIAL);
      }
    }

    @Test
    void lowerCaseEscapesAndPlainCharactersOnTheWireCanonicalizeTheSame() {
      SdkHttpFullRequest req =
          request(SdkHttpMethod.GET, "/2015-03-31/functions")
              .appendRawQueryParameter("Marker", "a:b/c~d")
              .build();
      SignedRequest signed = received(sign(req, NO_BODY, T0), NO_BODY);
      assertThat(signed.rawQuery()).isEqualTo("Marker=a%3Ab%2Fc~d");
      for (String wire :
          List.of("Marker=a%3ab%2fc~d", "Marker=a:b/c%7Ed", "Marker=a%3Ab%2Fc%7e%64")) {
        SignedRequest r =
            new SignedRequest(
                signed.method(),
                signed.rawPath(),
                wire,
                signed.headers(),
                signed.payloadSha256Hex());
        assertThat(verifier(T0).verify(r)).as(wire).isEqualTo(CREDENTIAL);
      }
    }

    @Test
    void plusInTheQueryMeansWhatTheHttpLayerDecodesItAs() {
      // Helidon decodes '+' in a query as a space, so the signature must cover a space there.
      SdkHttpFullRequest req =
          request(SdkHttpMethod.GET, "/2015-03-31/functions")
              .appendRawQueryParameter("Marker", "x y")
              .build();
      SignedRequest space = received(sign(req, NO_BODY, T0), NO_BODY);
      assertThat(space.rawQuery()).isEqualTo("Marker=x%20y");
      SignedRequest plusOnTheWire =
          new SignedRequest(
              space.method(),
              space.rawPath(),
              "Marker=x+y",
              space.headers(),
              space.payloadSha256Hex());
      assertThat(verifier(T0).verify(plusOnTheWire)).isEqualTo(CREDENTIAL);

      SdkHttpFullRequest plusReq =
          request(SdkHttpMethod.GET, "/2015-03-31/functions")
              .appendRawQueryParameter("Marker", "x+y")
              .build();
      SignedRequest plus = received(sign(plusReq, NO_BODY, T0), NO_BODY);
      assertThat(plus.rawQuery()).isEqualTo("Marker=x%2By");
      assertThat(verifier(T0).verify(plus)).isEqualTo(CREDENTIAL);
      SignedRequest rawPlus =
          new SignedRequest(
              plus.method(), plus.rawPath(), "Marker=x+y", plus.headers(), plus.payloadSha256Hex());
      assertThat(rejected(verifier(T0), rawPlus, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @Test
    void headerValuesAreTrimmedCollapsedAndRepeatedLinesJoined() {
      SdkHttpFullRequest req =
          request(SdkHttpMethod.POST, "/2015-03-31/functions/f/invocations")
              .putHeader("X-Amz-Client-Context", "  two   inner\t spaces  ")
              .putHeader("X-Amz-Log-Type", List.of("Tail", "  None "))
              .build();
      SignedRequest r = received(sign(req, JSON, T0), JSON);
      assertThat(r.headers().get("X-Amz-Log-Type")).hasSize(2);
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
      // Repeated lines are joined in order: swapping them changes the canonical headers.
      SignedRequest swapped = withHeader(r, "X-Amz-Log-Type", "  None ", "Tail");
      assertThat(rejected(verifier(T0), swapped, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @Test
    void headerNamesInAnyCaseInAPlainMap() {
      SignedRequest r = signedJsonPost();
      Map<String, List<String>> shouting = new LinkedHashMap<>();
      r.headers().forEach((k, v) -> shouting.put(k.toUpperCase(java.util.Locale.ROOT), v));
      assertThat(verifier(T0).verify(withHeaders(r, shouting))).isEqualTo(CREDENTIAL);
      assertThat(verifier(T0).verify(withHeaders(r, plainHeaders(r.headers()))))
          .isEqualTo(CREDENTIAL);
    }

    @Test
    void unsignedHeadersMayChange() {
      SignedRequest r = withHeader(signedJsonPost(), "User-Agent", "something/else");
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
    }

    @Test
    void sessionTokenHeaderIsSignedLikeAnyOther() {
      Credential session = new Credential("ASIAEXAMPLE", "sessionsecret", "123456789012");
      SdkHttpFullRequest req = request(SdkHttpMethod.GET, "/2015-03-31/functions").build();
      SdkHttpRequest signed =
          sign(
              req,
              NO_BODY,
              T0,
              r ->
                  r.identity(
                      AwsSessionCredentials.create(
                          "ASIAEXAMPLE", "sessionsecret", "FwoGZXIvYXdzEXAMPLE//+/=")));
      SignedRequest r = received(signed, NO_BODY);
      assertThat(r.headers()).containsKey("X-Amz-Security-Token");
      assertThat(verifier(T0, session).verify(r)).isEqualTo(session);
      SignedRequest tampered = withHeader(r, "X-Amz-Security-Token", "FwoGZXIvYXdzOTHER//+/=");
      assertThat(rejected(verifier(T0, session), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @ParameterizedTest
    @ValueSource(strings = {"eu-west-3", "ap-southeast-2", "local"})
    void anyRegionInTheScope(String region) {
      SdkHttpFullRequest req = request(SdkHttpMethod.GET, "/2015-03-31/functions").build();
      SignedRequest r =
          received(
              sign(req, NO_BODY, T0, s -> s.putProperty(AwsV4HttpSigner.REGION_NAME, region)),
              NO_BODY);
      assertThat(r.headers().get("Authorization").getFirst()).contains("/" + region + "/lambda/");
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
    }

    @Test
    void emptyPathIsSlash() {
      SignedRequest r = signedGet("/");
      SignedRequest empty =
          new SignedRequest(r.method(), "", r.rawQuery(), r.headers(), r.payloadSha256Hex());
      assertThat(verifier(T0).verify(empty)).isEqualTo(CREDENTIAL);
    }

    @Test
    void dotSegmentsAreSignedLiterallyNotNormalized() {
      String path = "/2015-03-31/functions/f/../g/./invocations";
      SdkHttpFullRequest req = request(SdkHttpMethod.GET, path).build();
      SignedRequest literal =
          received(
              sign(req, NO_BODY, T0, s -> s.putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false)),
              NO_BODY);
      assertThat(verifier(T0).verify(literal)).isEqualTo(CREDENTIAL);

      // The SDK's default normalizes before signing: the routed path is not the signed one.
      SignedRequest normalized = received(sign(req, NO_BODY, T0), NO_BODY);
      assertThat(normalized.rawPath()).isEqualTo(path);
      assertThat(rejected(verifier(T0), normalized, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @ParameterizedTest
    @ValueSource(longs = {-14 * 60, -15 * 60, 0, 14 * 60, 15 * 60})
    void clockSkewWithinFifteenMinutes(long skewSeconds) {
      SignedRequest r = signedJsonPost();
      assertThat(verifier(T0.plusSeconds(skewSeconds)).verify(r)).isEqualTo(CREDENTIAL);
    }

    @Test
    void signingKeysAreCachedAndTheCacheIsBounded() {
      SigV4Verifier verifier = verifier(T0);
      verifier.verify(signedGet("/2015-03-31/functions"));
      verifier.verify(signedJsonPost());
      assertThat(verifier.cachedSigningKeys()).isEqualTo(1);

      SdkHttpFullRequest req = request(SdkHttpMethod.GET, "/2015-03-31/functions").build();
      for (int i = 0; i < SigV4Verifier.SIGNING_KEY_CACHE_LIMIT + 10; i++) {
        String region = "r" + i;
        SignedRequest r =
            received(
                sign(req, NO_BODY, T0, s -> s.putProperty(AwsV4HttpSigner.REGION_NAME, region)),
                NO_BODY);
        assertThat(verifier.verify(r)).isEqualTo(CREDENTIAL);
        assertThat(verifier.cachedSigningKeys())
            .isBetween(1, SigV4Verifier.SIGNING_KEY_CACHE_LIMIT);
      }
    }

    @Test
    void aRotatedSecretIsNotServedFromTheKeyCache() {
      Map<String, Credential> store = new ConcurrentHashMap<>();
      store.put(ACCESS_KEY, CREDENTIAL);
      SigV4Verifier verifier =
          new SigV4Verifier(k -> Optional.ofNullable(store.get(k)), SdkSigning.clockAt(T0));
      SignedRequest r = signedJsonPost();
      assertThat(verifier.verify(r)).isEqualTo(CREDENTIAL);
      store.put(ACCESS_KEY, new Credential(ACCESS_KEY, "rotated", "123456789012"));
      assertThat(rejected(verifier, r, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @Test
    void concurrentVerificationOnVirtualThreads() throws Exception {
      SigV4Verifier verifier = verifier(T0);
      SignedRequest good = signedJsonPost();
      SignedRequest bad = withHeader(good, "Content-Type", "text/plain");
      AtomicInteger accepted = new AtomicInteger();
      AtomicInteger refused = new AtomicInteger();
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < 4000; i++) {
          boolean ok = i % 4 != 0;
          futures.add(
              pool.submit(
                  () -> {
                    if (ok) {
                      assertThat(verifier.verify(good)).isEqualTo(CREDENTIAL);
                      accepted.incrementAndGet();
                    } else {
                      rejected(verifier, bad, ErrorCode.InvalidSignatureException);
                      refused.incrementAndGet();
                    }
                  }));
        }
        for (Future<?> f : futures) {
          f.get();
        }
      }
      assertThat(accepted).hasValue(3000);
      assertThat(refused).hasValue(1000);
    }
  }

  @Nested
  class Refuses {
    @Test
    void noAuthorizationAtAll() {
      SignedRequest r = withHeader(signedJsonPost(), "Authorization");
      assertThat(rejected(verifier(T0), r, ErrorCode.MissingAuthenticationTokenException))
          .isEqualTo("Missing Authentication Token");
      SignedRequest withQuery =
          new SignedRequest("GET", "/2015-03-31/functions", "MaxItems=1", Map.of(), "x");
      assertThat(rejected(verifier(T0), withQuery, ErrorCode.MissingAuthenticationTokenException))
          .isEqualTo("Missing Authentication Token");
    }

    @Test
    void unknownAccessKey() {
      SignedRequest r = signedJsonPost();
      SigV4Verifier nobody = verifier(T0, new Credential("AKIDOTHER", "x", "1"));
      assertThat(rejected(nobody, r, ErrorCode.UnrecognizedClientException))
          .isEqualTo("The security token included in the request is invalid.");
    }

    @Test
    void wrongSecret() {
      SignedRequest r = signedJsonPost();
      SigV4Verifier other = verifier(T0, new Credential(ACCESS_KEY, "not-the-secret", "1"));
      assertThat(rejected(other, r, ErrorCode.InvalidSignatureException))
          .isEqualTo(
              "The request signature we calculated does not match the signature you provided."
                  + " Check your AWS Secret Access Key and signing method. Consult the service"
                  + " documentation for details.");
    }

    @Test
    void tamperedBodyWithContentSha256Header() {
      SignedRequest r = signedJsonPost();
      SignedRequest tampered =
          new SignedRequest(
              r.method(),
              r.rawPath(),
              r.rawQuery(),
              r.headers(),
              SignedRequest.sha256Hex(utf8("{\"Tags\":{\"team\":\"evil\"}}")));
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.CONTENT_SHA256_MISMATCH);
    }

    @Test
    void tamperedBodyAndContentSha256HeaderTogether() {
      // Rewriting the header to match the new body breaks the signature, which covers it.
      byte[] evil = utf8("{\"Tags\":{\"team\":\"evil\"}}");
      SignedRequest r = signedJsonPost();
      SignedRequest tampered =
          withHeader(
              SignedRequest.withBody(r.method(), r.rawPath(), r.rawQuery(), r.headers(), evil),
              "x-amz-content-sha256",
              SignedRequest.sha256Hex(evil));
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @Test
    void tamperedBodyWithoutContentSha256Header() {
      // What botocore sends: no x-amz-content-sha256, so the body hash is ours alone.
      SignedRequest wire =
          CapturedClientRequestsTest.parse(CapturedClientRequestsTest.CLI_TAG_RESOURCE);
      SigV4Verifier verifier = CapturedClientRequestsTest.verifierAt(wire);
      assertThat(verifier.verify(wire)).isNotNull();
      SignedRequest tampered =
          SignedRequest.withBody(
              wire.method(),
              wire.rawPath(),
              wire.rawQuery(),
              wire.headers(),
              utf8("{\"Tags\": {\"team\": \"kiln\", \"env\": \"a c\"}}"));
      assertThat(rejected(verifier, tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @Test
    void unsignedPayloadIsNotAccepted() {
      SdkHttpFullRequest req =
          request(SdkHttpMethod.POST, "/2015-03-31/functions/f/invocations")
              .protocol("https")
              .port(443)
              .build();
      // By default the signer hashes the payload over HTTPS too (only S3 turns that off).
      SdkHttpRequest byDefault = sign(req, JSON, T0);
      assertThat(byDefault.firstMatchingHeader("x-amz-content-sha256"))
          .contains(SignedRequest.sha256Hex(JSON));
      assertThat(verifier(T0).verify(received(byDefault, JSON))).isEqualTo(CREDENTIAL);

      SdkHttpRequest signed =
          sign(req, JSON, T0, s -> s.putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false));
      assertThat(signed.firstMatchingHeader("x-amz-content-sha256")).contains("UNSIGNED-PAYLOAD");
      assertThat(
              rejected(verifier(T0), received(signed, JSON), ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.CONTENT_SHA256_MISMATCH);
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "MaxItems=6&tagKeys=a&tagKeys=b",
          "MaxItems=5&tagKeys=a",
          "MaxItems=5&tagKeys=a&tagKeys=b&tagKeys=c",
          "MaxItems=5&tagKeys=a&tagKeys=b&Extra=1",
          "MaxItems=5&tagKeys=a%20&tagKeys=b",
          "MaxItems=5&tagKeys=a+&tagKeys=b",
          ""
        })
    void tamperedQuery(String wire) {
      SdkHttpFullRequest req =
          request(SdkHttpMethod.DELETE, "/2017-03-31/tags/" + ENCODED_ARN)
              .appendRawQueryParameter("tagKeys", "a")
              .appendRawQueryParameter("tagKeys", "b")
              .appendRawQueryParameter("MaxItems", "5")
              .build();
      SignedRequest r = received(sign(req, NO_BODY, T0), NO_BODY);
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
      SignedRequest tampered =
          new SignedRequest(r.method(), r.rawPath(), wire, r.headers(), r.payloadSha256Hex());
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @ParameterizedTest
    @ValueSource(
        strings = {
          "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ag",
          "/2017-03-31/tags/arn:aws:lambda:us-east-1:123456789012:function:f",
          "/2017-03-31/tags/arn%3aaws%3alambda%3aus-east-1%3a123456789012%3afunction%3af",
          "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/",
          "/2017-03-31//tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af",
          "/2017-03-31/tags/x/../arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af"
        })
    void tamperedPath(String wirePath) {
      SignedRequest r = signedJsonPost();
      SignedRequest tampered =
          new SignedRequest(r.method(), wirePath, r.rawQuery(), r.headers(), r.payloadSha256Hex());
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @Test
    void tamperedMethod() {
      SignedRequest r = signedJsonPost();
      SignedRequest tampered =
          new SignedRequest("PUT", r.rawPath(), r.rawQuery(), r.headers(), r.payloadSha256Hex());
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @ParameterizedTest
    @CsvSource({
      "Content-Type, text/plain",
      "Host, 127.0.0.1:9001",
      "Content-Length, 99",
    })
    void tamperedSignedHeader(String name, String value) {
      SignedRequest r = signedJsonPost();
      assertThat(r.headers().get("Authorization").getFirst())
          .contains(name.toLowerCase(java.util.Locale.ROOT));
      SignedRequest tampered = withHeader(r, name, value);
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @Test
    void removedSignedHeader() {
      SignedRequest tampered = withHeader(signedJsonPost(), "Content-Type");
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @Test
    void signedTooLongAgo() {
      SignedRequest r = signedJsonPost(); // signed at 2024-05-01T12:00:00Z
      String message =
          rejected(
              verifier(T0.plus(Duration.ofMinutes(16))), r, ErrorCode.InvalidSignatureException);
      assertThat(message)
          .isEqualTo(
              "Signature expired: 20240501T120000Z is now earlier than 20240501T120100Z"
                  + " (20240501T121600Z - 15 min.)");
    }

    @Test
    void signedInTheFuture() {
      SignedRequest r = signedJsonPost();
      String message =
          rejected(
              verifier(T0.minus(Duration.ofMinutes(16))), r, ErrorCode.InvalidSignatureException);
      assertThat(message)
          .isEqualTo(
              "Signature not yet current: 20240501T120000Z is still later than 20240501T115900Z"
                  + " (20240501T114400Z + 15 min.)");
    }

    @Test
    void oneSecondPastTheWindow() {
      SignedRequest r = signedJsonPost();
      rejected(verifier(T0.plusSeconds(15 * 60 + 1)), r, ErrorCode.InvalidSignatureException);
      rejected(verifier(T0.minusSeconds(15 * 60 + 1)), r, ErrorCode.InvalidSignatureException);
    }

    @Test
    void noDateHeader() {
      SignedRequest r = withHeader(signedJsonPost(), "X-Amz-Date");
      assertThat(rejected(verifier(T0), r, ErrorCode.InvalidSignatureException))
          .isEqualTo(
              "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date'"
                  + " header.");
    }

    @ParameterizedTest
    @ValueSource(strings = {"2024-05-01T12:00:00Z", "20240501T120000", "20241301T120000Z", "x"})
    void malformedAmzDate(String date) {
      SignedRequest r = withHeader(signedJsonPost(), "X-Amz-Date", date);
      assertThat(rejected(verifier(T0), r, ErrorCode.InvalidSignatureException))
          .startsWith("X-Amz-Date must be in the ISO 8601 basic format");
    }

    @Test
    void malformedDateHeader() {
      SignedRequest r =
          withHeader(withHeader(signedJsonPost(), "X-Amz-Date"), "Date", "yesterday at noon");
      assertThat(rejected(verifier(T0), r, ErrorCode.InvalidSignatureException))
          .startsWith("The Date header must be an RFC 1123 date");
    }

    @Test
    void scopeDateDiffersFromRequestDate() {
      SignedRequest r = signedJsonPost();
      String auth = r.headers().get("Authorization").getFirst();
      SignedRequest tampered =
          withHeader(r, "Authorization", auth.replace("/20240501/", "/20240430/"));
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(
              "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date"
                  + " from HTTP: '20240430' != '20240501', from 'x-amz-date'.");
    }

    @Test
    void requestDateDiffersFromScopeDate() {
      // Moving X-Amz-Date to another day (still within the clock window) is caught by the scope.
      SignedRequest r = withHeader(signedJsonPost(), "X-Amz-Date", "20240502T000000Z");
      assertThat(
              rejected(
                  verifier(Instant.parse("2024-05-01T23:50:00Z")),
                  r,
                  ErrorCode.InvalidSignatureException))
          .startsWith("Date in Credential scope does not match");
    }

    @Test
    void movedTimestampWithinTheSameDay() {
      SignedRequest r = withHeader(signedJsonPost(), "X-Amz-Date", "20240501T120100Z");
      assertThat(rejected(verifier(T0), r, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @ParameterizedTest
    @ValueSource(strings = {"s3", "execute-api", "Lambda"})
    void anotherService(String service) {
      SdkHttpFullRequest req = request(SdkHttpMethod.GET, "/2015-03-31/functions").build();
      SignedRequest r =
          received(
              sign(
                  req,
                  NO_BODY,
                  T0,
                  s -> s.putProperty(AwsV4FamilyHttpSigner.SERVICE_SIGNING_NAME, service)),
              NO_BODY);
      assertThat(rejected(verifier(T0), r, ErrorCode.InvalidSignatureException))
          .isEqualTo("Credential should be scoped to correct service: 'lambda'.");
    }

    @Test
    void hostNotSigned() {
      SignedRequest r = signedJsonPost();
      String auth = r.headers().get("Authorization").getFirst();
      SignedRequest tampered = withHeader(r, "Authorization", auth.replace(";host;", ";"));
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }

    @Test
    void twoAuthorizationHeaders() {
      SignedRequest r = signedJsonPost();
      String auth = r.headers().get("Authorization").getFirst();
      SignedRequest doubled = withHeader(r, "Authorization", auth, auth);
      assertThat(rejected(verifier(T0), doubled, ErrorCode.InvalidSignatureException))
          .isEqualTo("The request carries more than one Authorization header.");
    }

    @ParameterizedTest
    @CsvSource(
        delimiter = '|',
        value = {
          "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=|unsupported scheme 'AWS'",
          "Bearer eyJhbGciOiJIUzI1NiJ9|unsupported scheme 'Bearer'",
          "AWS4-HMAC-SHA1 Credential=AKIDEXAMPLE/20240501/us-east-1/lambda/aws4_request|"
              + "unsupported scheme 'AWS4-HMAC-SHA1'",
          "AWS4-HMAC-SHA256|Authorization header requires 'Credential' parameter."
              + " Authorization header requires 'Signature' parameter."
              + " Authorization header requires 'SignedHeaders' parameter.",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/lambda/aws4_request,"
              + " Signature=00|Authorization header requires 'SignedHeaders' parameter.",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/lambda/aws4_request,"
              + " SignedHeaders=host;x-amz-date|"
              + "Authorization header requires 'Signature' parameter.",
          "AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=00|"
              + "'Credential' not a valid key=value pair (missing equal-sign)",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/lambda, SignedHeaders=host,"
              + " Signature=00|Credential must have the form",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/lambda/aws4_request/x,"
              + " SignedHeaders=host, Signature=00|Credential must have the form",
          "AWS4-HMAC-SHA256 Credential=/20240501/us-east-1/lambda/aws4_request,"
              + " SignedHeaders=host, Signature=00|Credential must have the form",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501//lambda/aws4_request,"
              + " SignedHeaders=host, Signature=00|"
              + "Credential should be scoped to a valid region.",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/lambda/aws4_reqest,"
              + " SignedHeaders=host, Signature=00|"
              + "Credential should be scoped with a valid terminator: 'aws4_request', not"
              + " 'aws4_reqest'.",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2024-05-01/us-east-1/lambda/aws4_request,"
              + " SignedHeaders=host, Signature=00|"
              + "Date in Credential scope does not match",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/lambda/aws4_request,"
              + " SignedHeaders=host, Signature=00, Signature=01|"
              + "The request has more than one 'Signature' parameter.",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/lambda/aws4_request,"
              + " SignedHeaders=host, Signature=00, Algorithm=x|"
              + "Authorization header has an unknown parameter 'Algorithm'.",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/lambda/aws4_request,"
              + " SignedHeaders=host;;x-amz-date, Signature=00|"
              + "SignedHeaders contains an empty header name.",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/lambda/aws4_request,"
              + " SignedHeaders=x-amz-date, Signature=00|"
              + "'Host' or ':authority' must be a 'SignedHeader'",
        })
    void malformedAuthorizationHeader(String header, String expected) {
      SignedRequest r = withHeader(signedJsonPost(), "Authorization", header);
      assertThat(rejected(verifier(T0), r, ErrorCode.InvalidSignatureException)).contains(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"00", "not-hex-at-all", "ZZ"})
    void malformedSignatureValue(String signature) {
      SignedRequest r = signedJsonPost();
      String auth = r.headers().get("Authorization").getFirst();
      String broken = auth.substring(0, auth.indexOf("Signature=") + 10) + signature;
      SignedRequest tampered = withHeader(r, "Authorization", broken);
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @Test
    void signatureWithOneDigitChanged() {
      SignedRequest r = signedJsonPost();
      String auth = r.headers().get("Authorization").getFirst();
      char last = auth.charAt(auth.length() - 1);
      String changed = auth.substring(0, auth.length() - 1) + (last == '0' ? '1' : '0');
      SignedRequest tampered = withHeader(r, "Authorization", changed);
      assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
          .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
    }

    @Test
    void cheapChecksComeBeforeTheCredentialLookup() {
      AtomicInteger lookups = new AtomicInteger();
      SigV4Verifier counting =
          new SigV4Verifier(
              k -> {
                lookups.incrementAndGet();
                return Optional.of(CREDENTIAL);
              },
              SdkSigning.clockAt(T0.plus(Duration.ofHours(1))));
      rejected(counting, signedJsonPost(), ErrorCode.InvalidSignatureException);
      rejected(
          counting,
          withHeader(signedJsonPost(), "X-Amz-Date"),
          ErrorCode.InvalidSignatureException);
      assertThat(lookups).hasValue(0);
    }
  }

  @Nested
  class Presigned {
    private SignedRequest presign(Duration expires, SdkHttpFullRequest req) {
      return received(
          sign(
              req,
              NO_BODY,
              T0,
              s ->
                  s.putProperty(
                          AwsV4HttpSigner.AUTH_LOCATION, AwsV4HttpSigner.AuthLocation.QUERY_STRING)
                      .putProperty(AwsV4HttpSigner.EXPIRATION_DURATION, expires)),
          NO_BODY);
    }

    private SignedRequest presignedGet() {
      return presign(
          Duration.ofMinutes(30),
          request(SdkHttpMethod.GET, "/2015-03-31/functions/" + ENCODED_ARN + "%3A%24LATEST")
              .appendRawQueryParameter("Qualifier", "$LATEST")
              .build());
    }

    @Test
    void acceptedWithinItsValidity() {
      SignedRequest r = presignedGet();
      assertThat(r.headers()).doesNotContainKey("Authorization");
      assertThat(r.rawQuery()).contains("X-Amz-Signature=").contains("X-Amz-Expires=1800");
      assertThat(verifier(T0).verify(r)).isEqualTo(CREDENTIAL);
      assertThat(verifier(T0.plus(Duration.ofMinutes(29))).verify(r)).isEqualTo(CREDENTIAL);
      assertThat(verifier(T0.minus(Duration.ofMinutes(14))).verify(r)).isEqualTo(CREDENTIAL);
    }

    @Test
    void refusedOnceExpired() {
      SignedRequest r = presignedGet();
      assertThat(
              rejected(
                  verifier(T0.plus(Duration.ofMinutes(31))),
                  r,
                  ErrorCode.InvalidSignatureException))
          .isEqualTo(
              "Signature expired: 20240501T120000Z is now earlier than 20240501T120100Z"
                  + " (20240501T123100Z - 1800 sec.)");
      rejected(verifier(T0.minus(Duration.ofMinutes(16))), r, ErrorCode.InvalidSignatureException);
    }

    @Test
    void refusedWhenTampered() {
      SignedRequest r = presignedGet();
      for (String wire :
          List.of(
              r.rawQuery().replace("Qualifier=%24LATEST", "Qualifier=1"),
              r.rawQuery().replace("X-Amz-Expires=1800", "X-Amz-Expires=3600"),
              r.rawQuery() + "&extra=1")) {
        SignedRequest tampered =
            new SignedRequest(r.method(), r.rawPath(), wire, r.headers(), r.payloadSha256Hex());
        assertThat(rejected(verifier(T0), tampered, ErrorCode.InvalidSignatureException))
            .as(wire)
            .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
      }
    }

    @Test
    void refusedWhenParametersAreMissingOrOdd() {
      SignedRequest r = presignedGet();
      SigV4Verifier v = verifier(T0);
      String noExpires = r.rawQuery().replaceAll("&?X-Amz-Expires=1800", "");
      assertThat(rejected(v, withQuery(r, noExpires), ErrorCode.InvalidSignatureException))
          .startsWith("AWS query-string authentication requires the X-Amz-Algorithm");
      assertThat(
              rejected(
                  v,
                  withQuery(r, r.rawQuery().replace("X-Amz-Expires=1800", "X-Amz-Expires=604801")),
                  ErrorCode.InvalidSignatureException))
          .startsWith("X-Amz-Expires must be a whole number of seconds from 1 to 604800");
      assertThat(
              rejected(
                  v,
                  withQuery(r, r.rawQuery().replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512")),
                  ErrorCode.InvalidSignatureException))
          .startsWith("X-Amz-Algorithm 'AWS4-HMAC-SHA512' is not supported");
      assertThat(
              rejected(
                  v,
                  withQuery(r, r.rawQuery().replace("%2Flambda%2F", "%2Fs3%2F")),
                  ErrorCode.InvalidSignatureException))
          .isEqualTo("Credential should be scoped to correct service: 'lambda'.");
    }

    @Test
    void unknownAccessKey() {
      SignedRequest r = presignedGet();
      assertThat(
              rejected(
                  verifier(T0, new Credential("AKIDOTHER", "x", "1")),
                  r,
                  ErrorCode.UnrecognizedClientException))
          .isEqualTo(SigV4Verifier.INVALID_TOKEN);
    }

    @Test
    void bothHeaderAndQueryAuthentication() {
      SignedRequest query = presignedGet();
      SignedRequest header = signedJsonPost();
      SignedRequest both =
          new SignedRequest(
              query.method(),
              query.rawPath(),
              query.rawQuery(),
              header.headers(),
              query.payloadSha256Hex());
      assertThat(rejected(verifier(T0), both, ErrorCode.InvalidSignatureException))
          .startsWith("Only one authentication mechanism is allowed");
    }

    private SignedRequest withQuery(SignedRequest r, String rawQuery) {
      return new SignedRequest(
          r.method(), r.rawPath(), rawQuery, r.headers(), r.payloadSha256Hex());
    }
  }
}
