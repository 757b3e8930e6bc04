package dev.kiln.api.auth;

import static dev.kiln.api.auth.SdkSigning.rejected;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.Credential;
import dev.kiln.core.ErrorCode;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests recorded byte for byte from real clients, verified at the time they were signed.
 *
 * <p>How they were recorded (2026-11-23): a few-line Python socket server on 127.0.0.1 wrote down
 * each request line, header line and body, and answered 200 {@code {"Tags":{}}} (204 for DELETE).
 * The CLI ran as {@code AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret
 * AWS_DEFAULT_REGION=us-east-1 /usr/bin/aws lambda ... --endpoint-url http://127.0.0.1:18777}
 * (aws-cli/2.9.19, Debian's awscli); the Java SDK requests came from {@code LambdaClient} 2.51.3
 * with the URL-connection HTTP client and the same key. The "botocore" requests were signed by the
 * CLI's own botocore ({@code SigV4Auth}, {@code SigV4QueryAuth}) with a fixed timestamp, for the
 * forms the CLI does not produce by itself: a {@code Date} header instead of {@code X-Amz-Date}, a
 * presigned URL, and a session token. The Host header of those three is the one the HTTP client
 * would add.
 */
class CapturedClientRequestsTest {
  static final Credential CLI_KEY = new Credential("AKIDEXAMPLE", "secret", "123456789012");
  static final Credential SESSION_KEY = new Credential("ASIAEXAMPLE", "secret2", "123456789012");

  /** {@code aws lambda list-tags --resource arn:aws:lambda:us-east-1:123456789012:function:f}. */
  static final String CLI_LIST_TAGS =
      """
      GET /2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af HTTP/1.1
      Host: 127.0.0.1:18777
      Accept-Encoding: identity
      User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v669 source/x86_64.debian.12 prompt/off command/lambda.list-tags
      X-Amz-Date: 20261123T041402Z
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=3491351d7b08ec46a269068fc6490f6e69901927638b82290bf9b5a72c0f1ddd

      """;

  /** {@code aws lambda tag-resource --resource ARN --tags team=kiln,env="a b"}. */
  static final String CLI_TAG_RESOURCE =
      """
      POST /2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af HTTP/1.1
      Host: 127.0.0.1:18777
      Accept-Encoding: identity
      Content-Type: application/json
      User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v669 source/x86_64.debian.12 prompt/off command/lambda.tag-resource
      X-Amz-Date: 20261123T041403Z
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=6a1e54059d0d00749eb3204396a6e8bd9d4873ea91ce58c94edb16cbf8e30e6b
      Content-Length: 40

      {"Tags": {"team": "kiln", "env": "a b"}}
      """;

  /** {@code aws lambda untag-resource --resource ARN --tag-keys a b}. */
  static final String CLI_UNTAG_RESOURCE =
      """
      DELETE /2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af?tagKeys=a&tagKeys=b HTTP/1.1
      Host: 127.0.0.1:18777
      Accept-Encoding: identity
      User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v669 source/x86_64.debian.12 prompt/off command/lambda.untag-resource
      X-Amz-Date: 20261123T041403Z
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=d5ce063d4bdc31987a9a1c575ef19c434d2e84bae2e8bdd07c65788340a90103
      Content-Length: 0

      """;

  /** {@code aws lambda untag-resource --resource ARN --tag-keys b 'a&=x' 'a b'}. */
  static final String CLI_UNTAG_RESOURCE_ODD_KEYS =
      """
      DELETE /2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af?tagKeys=b&tagKeys=a%26%3Dx&tagKeys=a%20b HTTP/1.1
      Host: 127.0.0.1:18777
      Accept-Encoding: identity
      User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v669 source/x86_64.debian.12 prompt/off command/lambda.untag-resource
      X-Amz-Date: 20261123T041408Z
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=5c422a3515233d9fa330fe7564512bf59a65eb0994330598e1a1013d0f181e11
      Content-Length: 0

      """;

  /**
   * {@code aws lambda invoke --function-name f --qualifier '$LATEST' --cli-binary-format
   * raw-in-base64-out --payload '{"hello": "wörld"}' out.json}: no Content-Type, body unsigned by
   * any header, yet covered by the signature.
   */
  static final String CLI_INVOKE_LATEST =
      """
      POST /2015-03-31/functions/f/invocations?Qualifier=%24LATEST HTTP/1.1
      Host: 127.0.0.1:18777
      Accept-Encoding: identity
      User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v669 source/x86_64.debian.12 prompt/off command/lambda.invoke
      X-Amz-Date: 20261123T041404Z
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=1500311a6a51b00634af4b89ab433704fba015b3d3cdbab8a974503b2c2af32a
      Content-Length: 19

      {"hello": "w\u00f6rld"}
      """;

  /** {@code aws lambda get-function-configuration --function-name 'ARN:$LATEST'}. */
  static final String CLI_GET_CONFIGURATION_LATEST_ARN =
      """
      GET /2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af%3A%24LATEST/configuration HTTP/1.1
      Host: 127.0.0.1:18777
      Accept-Encoding: identity
      User-Agent: aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v669 source/x86_64.debian.12 prompt/off command/lambda.get-function-configuration
      X-Amz-Date: 20261123T041408Z
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=ff0e31995a0000da5b487bee2f952d369cd155a998731d88e8c288a6f55696d0

      """;

  /** {@code LambdaClient.listTags(r -> r.resource(ARN))}. */
  static final String SDK_LIST_TAGS =
      """
      GET /2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af HTTP/1.1
      amz-sdk-invocation-id: 72926e92-f6f0-34eb-fd2d-df5e23bc805b
      amz-sdk-request: attempt=1; max=1
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;host;x-amz-content-sha256;x-amz-date, Signature=a6e568555832f7ed2b612e4ef589862f083d697939492a7139d63ada54bc85dd
      User-Agent: aws-sdk-java/2.51.3 md/io#sync md/http#UrlConnection ua/2.1 api/Lambda#2.51.x os/Linux#6.18.44-fc-v669 lang/java#25.0.3 md/OpenJDK_64-Bit_Server_VM#25.0.3+9-LTS md/vendor#Eclipse_Adoptium m/E,AK,N,e
      x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
      X-Amz-Date: 20261123T041425Z
      Accept: */*
      Host: 127.0.0.1:18777
      Connection: keep-alive

      """;

  /** {@code LambdaClient.tagResource(r -> r.resource(ARN).tags(Map.of("team", "kiln")))}. */
  static final String SDK_TAG_RESOURCE =
      """
      POST /2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af HTTP/1.1
      amz-sdk-invocation-id: 21cf7853-b903-9b33-5a1d-3f28cddcff4f
      amz-sdk-request: attempt=1; max=1
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=9c9397ab8ec1b2ee58caff07c4e455c6f194ebd098c079a0d1576760d5ad4f5b
      Content-Type: application/json
      User-Agent: aws-sdk-java/2.51.3 md/io#sync md/http#UrlConnection ua/2.1 api/Lambda#2.51.x os/Linux#6.18.44-fc-v669 lang/java#25.0.3 md/OpenJDK_64-Bit_Server_VM#25.0.3+9-LTS md/vendor#Eclipse_Adoptium m/E,AK,N,e
      x-amz-content-sha256: 02944c0a3f276eae2a211af989626491adb557395bf872532b5bf95308eb5f4d
      X-Amz-Date: 20261123T041425Z
      Accept: */*
      Host: 127.0.0.1:18777
      Connection: keep-alive
      Content-Length: 24

      {"Tags":{"team":"kiln"}}
      """;

  /** {@code LambdaClient.untagResource(r -> r.resource(ARN).tagKeys("a", "b"))}. */
  static final String SDK_UNTAG_RESOURCE =
      """
      DELETE /2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af?tagKeys=a&tagKeys=b HTTP/1.1
      amz-sdk-invocation-id: 39763e6e-0034-37df-b49a-41b922cf30c8
      amz-sdk-request: attempt=1; max=1
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;host;x-amz-content-sha256;x-amz-date, Signature=cabc4b0e6b9846d1f5980d83ca30caab27aad0a17ee7b04c6194e7bb22011b7f
      User-Agent: aws-sdk-java/2.51.3 md/io#sync md/http#UrlConnection ua/2.1 api/Lambda#2.51.x os/Linux#6.18.44-fc-v669 lang/java#25.0.3 md/OpenJDK_64-Bit_Server_VM#25.0.3+9-LTS md/vendor#Eclipse_Adoptium m/E,AK,N,e
      x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
      X-Amz-Date: 20261123T041425Z
      Accept: */*
      Host: 127.0.0.1:18777
      Connection: keep-alive

      """;

  /** {@code LambdaClient.invoke(r -> r.functionName("f").qualifier("$LATEST").payload(...))}. */
  static final String SDK_INVOKE_LATEST =
      """
      POST /2015-03-31/functions/f/invocations?Qualifier=%24LATEST HTTP/1.1
      amz-sdk-invocation-id: 1a7bb8e5-a480-4e82-205d-88f905f1cd83
      amz-sdk-request: attempt=1; max=1
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=aeda56ae945862f9a83013258c93ee0aadf762c199d7644863dc715bd54cac40
      Content-Type: application/json
      User-Agent: aws-sdk-java/2.51.3 md/io#sync md/http#UrlConnection ua/2.1 api/Lambda#2.51.x os/Linux#6.18.44-fc-v669 lang/java#25.0.3 md/OpenJDK_64-Bit_Server_VM#25.0.3+9-LTS md/vendor#Eclipse_Adoptium m/E,AK,N,e
      x-amz-content-sha256: 9cb061d0ce8e12452d84707b1ff8910deab3cc532543d628e8b347a6d81476f3
      X-Amz-Date: 20261123T041425Z
      Accept: */*
      Host: 127.0.0.1:18777
      Connection: keep-alive
      Content-Length: 19

      {"hello": "w\u00f6rld"}
      """;

  /** {@code LambdaClient.getFunctionConfiguration(r -> r.functionName(ARN + ":$LATEST"))}. */
  static final String SDK_GET_CONFIGURATION_LATEST_ARN =
      """
      GET /2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af%3A%24LATEST/configuration HTTP/1.1
      amz-sdk-invocation-id: 6ffa269b-736f-709b-3a12-537876dd61ab
      amz-sdk-request: attempt=1; max=1
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;host;x-amz-content-sha256;x-amz-date, Signature=dfff11cea9f2feeaae80e4493b322b6b7a85d287febc73d0ebeb30e410d2a1ee
      User-Agent: aws-sdk-java/2.51.3 md/io#sync md/http#UrlConnection ua/2.1 api/Lambda#2.51.x os/Linux#6.18.44-fc-v669 lang/java#25.0.3 md/OpenJDK_64-Bit_Server_VM#25.0.3+9-LTS md/vendor#Eclipse_Adoptium m/E,AK,N,e
      x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
      X-Amz-Date: 20261123T041425Z
      Accept: */*
      Host: 127.0.0.1:18777
      Connection: keep-alive

      """;

  /**
   * botocore SigV4Auth, region eu-west-3, with a Date header (RFC 1123, "-0000") and no X-Amz-Date.
   */
  static final String BOTOCORE_DATE_HEADER =
      """
      GET /2015-03-31/functions/f/configuration HTTP/1.1
      Host: 127.0.0.1:9000
      Date: Mon, 23 Nov 2026 04:14:02 -0000
      Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/eu-west-3/lambda/aws4_request, SignedHeaders=date;host, Signature=5b42a91fda5006b90e2780ea0e15c44ee7b21e4291327734b0226489fea7e73b

      """;

  /** botocore SigV4QueryAuth, expires 300 s. */
  static final String BOTOCORE_PRESIGNED =
      """
      GET /2015-03-31/functions/f/configuration?Qualifier=%24LATEST&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261123%2Fus-east-1%2Flambda%2Faws4_request&X-Amz-Date=20261123T041402Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=433b0f0f75772c9d2a090aab5c33747ecec577588b6bbbf7a26609ecb61fb9ac HTTP/1.1
      Host: 127.0.0.1:9000

      """;

  /** botocore SigV4Auth with session credentials: X-Amz-Security-Token is signed. */
  static final String BOTOCORE_SESSION_TOKEN =
      """
      POST /2015-03-31/functions/f/invocations HTTP/1.1
      Host: 127.0.0.1:9000
      X-Amz-Invocation-Type: Event
      X-Amz-Date: 20261123T041402Z
      X-Amz-Security-Token: FwoGZXIvYXdzEXAMPLETOKEN//+/=
      Authorization: AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20261123/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date;x-amz-invocation-type;x-amz-security-token, Signature=3aad2cf27aa5d335b747d2af68289bc5fcfb9935d42b43ac7b224c3cfd109e83
      Content-Length: 9

      {"k":"v"}
      """;

  static Stream<Arguments> captured() {
    return Stream.of(
        Arguments.of("cli list-tags", CLI_LIST_TAGS),
        Arguments.of("cli tag-resource", CLI_TAG_RESOURCE),
        Arguments.of("cli untag-resource", CLI_UNTAG_RESOURCE),
        Arguments.of("cli untag-resource odd keys", CLI_UNTAG_RESOURCE_ODD_KEYS),
        Arguments.of("cli invoke $LATEST", CLI_INVOKE_LATEST),
        Arguments.of(
            "cli get-function-configuration ARN:$LATEST", CLI_GET_CONFIGURATION_LATEST_ARN),
        Arguments.of("sdk listTags", SDK_LIST_TAGS),
        Arguments.of("sdk tagResource", SDK_TAG_RESOURCE),
        Arguments.of("sdk untagResource", SDK_UNTAG_RESOURCE),
        Arguments.of("sdk invoke $LATEST", SDK_INVOKE_LATEST),
        Arguments.of("sdk getFunctionConfiguration ARN:$LATEST", SDK_GET_CONFIGURATION_LATEST_ARN),
        Arguments.of("botocore Date header", BOTOCORE_DATE_HEADER),
        Arguments.of("botocore presigned", BOTOCORE_PRESIGNED),
        Arguments.of("botocore session token", BOTOCORE_SESSION_TOKEN));
  }

  static SignedRequest parse(String wire) {
    return SdkSigning.parseWire(wire);
  }

  /** When the request was signed: its X-Amz-Date header, Date header, or X-Amz-Date parameter. */
  static Instant signedAt(SignedRequest r) {
    Map<String, List<String>> h = r.headers();
    if (h.containsKey("X-Amz-Date")) {
      return Instant.ofEpochSecond(SigV4Verifier.parseBasicIso(h.get("X-Amz-Date").getFirst()));
    }
    if (h.containsKey("Date")) {
      return ZonedDateTime.parse(h.get("Date").getFirst(), DateTimeFormatter.RFC_1123_DATE_TIME)
          .toInstant();
    }
    int at = r.rawQuery().indexOf("X-Amz-Date=") + "X-Amz-Date=".length();
    return Instant.ofEpochSecond(SigV4Verifier.parseBasicIso(r.rawQuery().substring(at, at + 16)));
  }

  static SigV4Verifier verifierAt(SignedRequest r) {
    return verifierAt(signedAt(r), CLI_KEY, SESSION_KEY);
  }

  static SigV4Verifier verifierAt(Instant now, Credential... known) {
    return SdkSigning.verifier(now, known);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("captured")
  void verifiesAtItsSigningTime(String name, String wire) {
    SignedRequest r = parse(wire);
    Credential expected = wire.contains("ASIAEXAMPLE") ? SESSION_KEY : CLI_KEY;
    assertThat(verifierAt(r).verify(r)).isEqualTo(expected);
    // and a little later, within the window
    assertThat(verifierAt(signedAt(r).plusSeconds(200), CLI_KEY, SESSION_KEY).verify(r))
        .isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("captured")
  void refusedWithAnotherSecret(String name, String wire) {
    SignedRequest r = parse(wire);
    SigV4Verifier wrong =
        verifierAt(
            signedAt(r),
            new Credential("AKIDEXAMPLE", "secreT", "1"),
            new Credential("ASIAEXAMPLE", "secret", "1"));
    assertThat(rejected(wrong, r, ErrorCode.InvalidSignatureException))
        .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("captured")
  void refusedTwentyMinutesLater(String name, String wire) {
    SignedRequest r = parse(wire);
    SigV4Verifier later =
        verifierAt(signedAt(r).plus(Duration.ofMinutes(20)), CLI_KEY, SESSION_KEY);
    assertThat(rejected(later, r, ErrorCode.InvalidSignatureException))
        .startsWith("Signature expired: ");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("captured")
  void refusedWhenTheKeyIsUnknown(String name, String wire) {
    SignedRequest r = parse(wire);
    SigV4Verifier nobody = verifierAt(signedAt(r));
    assertThat(rejected(nobody, r, ErrorCode.UnrecognizedClientException))
        .isEqualTo(SigV4Verifier.INVALID_TOKEN);
  }

  @Test
  void theCliSendsNoContentSha256AndEscapesColonsAndDollarsInThePath() {
    SignedRequest r = parse(CLI_GET_CONFIGURATION_LATEST_ARN);
    assertThat(r.headers()).doesNotContainKey("x-amz-content-sha256");
    assertThat(r.rawPath()).contains("%3A").contains("%24LATEST");
    // The canonical URI botocore logged for this very request (aws --debug).
    assertThat(SigV4Verifier.canonicalUri(r.rawPath()))
        .isEqualTo(
            "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012"
                + "%253Afunction%253Af%253A%2524LATEST/configuration");
  }

  @Test
  void theCliCanonicalQueryForRepeatedOddKeys() {
    SignedRequest r = parse(CLI_UNTAG_RESOURCE_ODD_KEYS);
    // botocore's logged canonical query for tag keys b, 'a&=x', 'a b'.
    assertThat(SigV4Verifier.canonicalQuery(r.rawQuery()))
        .isEqualTo("tagKeys=a%20b&tagKeys=a%26%3Dx&tagKeys=b");
  }

  @Test
  void theJavaSdkSendsAndSignsContentSha256() {
    SignedRequest r = parse(SDK_INVOKE_LATEST);
    assertThat(r.headers().get("x-amz-content-sha256").getFirst()).isEqualTo(r.payloadSha256Hex());
    assertThat(r.headers().get("Authorization").getFirst())
        .contains(
            "SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;"
                + "content-type;host;x-amz-content-sha256;x-amz-date,");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("tamperings")
  void refusedWhenTampered(String name, SignedRequest tampered) {
    assertThat(rejected(verifierAt(tampered), tampered, ErrorCode.InvalidSignatureException))
        .isEqualTo(SigV4Verifier.SIGNATURE_MISMATCH);
  }

  static Stream<Arguments> tamperings() {
    SignedRequest untag = parse(CLI_UNTAG_RESOURCE);
    SignedRequest invoke = parse(CLI_INVOKE_LATEST);
    SignedRequest config = parse(CLI_GET_CONFIGURATION_LATEST_ARN);
    SignedRequest session = parse(BOTOCORE_SESSION_TOKEN);
    SignedRequest presigned = parse(BOTOCORE_PRESIGNED);
    return Stream.of(
        Arguments.of("untag one key fewer", query(untag, "tagKeys=a")),
        Arguments.of("untag another key", query(untag, "tagKeys=a&tagKeys=c")),
        Arguments.of("invoke another qualifier", query(invoke, "Qualifier=1")),
        Arguments.of(
            "invoke another payload",
            SignedRequest.withBody(
                invoke.method(),
                invoke.rawPath(),
                invoke.rawQuery(),
                invoke.headers(),
                SdkSigning.utf8("{\"hello\": \"world\"}"))),
        Arguments.of(
            "configuration of another version",
            new SignedRequest(
                config.method(),
                config.rawPath().replace("%24LATEST", "1"),
                config.rawQuery(),
                config.headers(),
                config.payloadSha256Hex())),
        Arguments.of(
            "event becomes request-response",
            SdkSigning.withHeader(session, "X-Amz-Invocation-Type", "RequestResponse")),
        Arguments.of(
            "presigned for another qualifier",
            query(presigned, presigned.rawQuery().replace("%24LATEST", "1"))));
  }

  private static SignedRequest query(SignedRequest r, String rawQuery) {
    return new SignedRequest(r.method(), r.rawPath(), rawQuery, r.headers(), r.payloadSha256Hex());
  }
}
