package dev.kiln.api.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/** The canonical-form pieces of {@link SigV4Verifier}, one rule at a time. */
class SigV4CanonicalFormTest {

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "''|/",
        "/|/",
        "/2015-03-31/functions|/2015-03-31/functions",
        "/2015-03-31/functions/|/2015-03-31/functions/",
        "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af"
            + "|/2017-03-31/tags/arn%253Aaws%253Alambda%253Aus-east-1%253A123456789012"
            + "%253Afunction%253Af",
        "/2015-03-31/functions/f%3A%24LATEST/configuration"
            + "|/2015-03-31/functions/f%253A%2524LATEST/configuration",
        "/2015-03-31/functions/f/versions/$LATEST|/2015-03-31/functions/f/versions/%24LATEST",
        "/a b/c+d/e~f_g.h-i|/a%20b/c%2Bd/e~f_g.h-i",
        "/a/../b/./c//d|/a/../b/./c//d",
        "/caf\u00e9/\ud83d\ude00|/caf%C3%A9/%F0%9F%98%80",
        "/%7e/%2F|/%257e/%252F",
      })
  void canonicalUriEncodesTheWirePathOnceMore(String rawPath, String expected) {
    assertThat(SigV4Verifier.canonicalUri(rawPath)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/2015-03-31/functions/f%3A%24LATEST/configuration",
        "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af",
        "/2018-10-31/layers/my-layer/versions/3",
        "/a b/c+d/%/~",
      })
  void canonicalUriMatchesTheSdksDoubleEncoding(String rawPath) {
    assertThat(SigV4Verifier.canonicalUri(rawPath))
        .isEqualTo(SdkHttpUtils.urlEncodeIgnoreSlashes(rawPath));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "''|''",
        "a=1|a=1",
        "b=2&a=1|a=1&b=2",
        "tagKeys=b&tagKeys=a|tagKeys=a&tagKeys=b",
        "tagKeys=a&tagKeys=a|tagKeys=a&tagKeys=a",
        "flag|flag=",
        "flag=|flag=",
        "a=1&&b=2|a=1&b=2",
        "=orphan&a=1|a=1",
        "Qualifier=%24LATEST|Qualifier=%24LATEST",
        "Qualifier=$LATEST|Qualifier=%24LATEST",
        "m=%7e%7E~|m=~~~",
        "m=%3a%2f|m=%3A%2F",
        "m=a:b/c|m=a%3Ab%2Fc",
        "m=x+y|m=x%20y",
        "m=x%2By|m=x%2By",
        "m=x%20y|m=x%20y",
        "m=a=b|m=a%3Db",
        "m=100%|m=100%25",
        "m=%zz|m=%25zz",
        "m=%C3%A9|m=%C3%A9",
        "m=\u00e9|m=%C3%A9",
        "m=%FF|m=%FF",
        "B=1&a=1&_=1&~=1&-=1&.=1|-=1&.=1&B=1&_=1&a=1&~=1",
        "a%20b=1&a=2|a=2&a%20b=1",
        "X-Amz-Date=20240501T120000Z&Action=x|Action=x&X-Amz-Date=20240501T120000Z",
      })
  void canonicalQuery(String rawQuery, String expected) {
    assertThat(SigV4Verifier.canonicalQuery(rawQuery)).isEqualTo(expected);
  }

  @Test
  void nullQueryIsEmpty() {
    assertThat(SigV4Verifier.canonicalQuery(null)).isEmpty();
  }

  @Test
  void queryEncodingAgreesWithTheSdkForEveryAsciiCharacter() {
    for (char c = 0x20; c < 0x7f; c++) {
      if (c == '+') {
        continue; // a raw '+' on the wire is a space; the SDK always sends %2B for a plus
      }
      String value = "x" + c + "y";
      String wire = "k=" + SdkHttpUtils.urlEncode(value);
      assertThat(SigV4Verifier.canonicalQuery(wire))
          .as("char %s", c)
          .isEqualTo("k=" + SdkHttpUtils.urlEncode(value));
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "application/json|application/json",
        "'  padded  '|padded",
        "'a   b \t c'|a b c",
        "'\ta\tb\t'|a b",
        "'attempt=1; max=1'|attempt=1; max=1",
        "''|''",
        "'   '|''",
      })
  void headerValuesAreTrimmedAndCollapsed(String value, String expected) {
    StringBuilder out = new StringBuilder();
    SigV4Verifier.appendTrimmed(out, value);
    assertThat(out.toString()).isEqualTo(expected);
  }

  @Test
  void basicIsoTimestamps() {
    assertThat(SigV4Verifier.parseBasicIso("20240501T120000Z"))
        .isEqualTo(Instant.parse("2024-05-01T12:00:00Z").getEpochSecond());
    assertThat(SigV4Verifier.parseBasicIso("20240229T235959Z"))
        .isEqualTo(Instant.parse("2024-02-29T23:59:59Z").getEpochSecond());
    for (String bad :
        new String[] {
          "20230229T000000Z",
          "20240501T250000Z",
          "20240501 120000Z",
          "2024050IT120000Z",
          "20240501T120000",
          "20240501T120000ZZ",
          "",
          "2024-05-01T12:00:00Z",
          "+0240501T120000Z"
        }) {
      assertThat(SigV4Verifier.parseBasicIso(bad)).as(bad).isEqualTo(Long.MIN_VALUE);
    }
    assertThat(SigV4Verifier.formatBasicIso(Instant.parse("2026-11-23T04:14:02Z").getEpochSecond()))
        .isEqualTo("20261123T041402Z");
  }

  @Test
  void debugLogOfACanonicalRequestHidesTheSessionToken() {
    String canonical =
        "GET\n/\nX-Amz-Security-Token=abc%2F&a=1\nhost:h\nx-amz-security-token:abc/\n\n"
            + "host;x-amz-security-token\n"
            + SignedRequest.EMPTY_PAYLOAD_SHA256;
    assertThat(SigV4Verifier.redact(canonical))
        .isEqualTo(
            "GET\n/\nX-Amz-Security-Token=<redacted>&a=1\nhost:h\n"
                + "x-amz-security-token:<redacted>\n\nhost;x-amz-security-token\n"
                + SignedRequest.EMPTY_PAYLOAD_SHA256);
  }

  @Test
  void sha256OfNothing() {
    assertThat(SignedRequest.sha256Hex(null)).isEqualTo(SignedRequest.EMPTY_PAYLOAD_SHA256);
    assertThat(SignedRequest.sha256Hex(new byte[0])).isEqualTo(SignedRequest.EMPTY_PAYLOAD_SHA256);
    assertThat(SignedRequest.sha256Hex("abc".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
}
