package dev.kiln.api.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The parts of an HTTP request that an AWS Signature Version 4 signature covers, free of any HTTP
 * framework type.
 *
 * <p>The body is carried as its SHA-256 digest (lower-case hex) rather than as bytes, so a large
 * Invoke payload need not be held twice and the HTTP layer may hash it while reading it. Use {@link
 * #withBody} when the bytes are at hand. The digest must be that of the bytes actually received:
 * the verifier never trusts the client's {@code x-amz-content-sha256} header.
 *
 * @param method the HTTP method, as on the request line ({@code GET}, {@code POST}, ...)
 * @param rawPath the request path exactly as on the wire, still percent-encoded (for example {@code
 *     /2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af})
 * @param rawQuery the query string as on the wire without the leading {@code ?}; null or empty when
 *     there is none
 * @param headers the request headers; names are matched without regard to case, and a name may
 *     carry several values (repeated header lines)
 * @param payloadSha256Hex the lower-case hex SHA-256 digest of the received body (the digest of
 *     zero bytes when there is no body)
 */
public record SignedRequest(
    String method,
    String rawPath,
    String rawQuery,
    Map<String, List<String>> headers,
    String payloadSha256Hex) {

  /** The SHA-256 digest of zero bytes, in lower-case hex. */
  public static final String EMPTY_PAYLOAD_SHA256 =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  public SignedRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(rawPath, "rawPath");
    Objects.requireNonNull(headers, "headers");
    Objects.requireNonNull(payloadSha256Hex, "payloadSha256Hex");
  }

  /** A request whose body is given as bytes; they are hashed here. A null body means none. */
  public static SignedRequest withBody(
      String method,
      String rawPath,
      String rawQuery,
      Map<String, List<String>> headers,
      byte[] body) {
    return new SignedRequest(method, rawPath, rawQuery, headers, sha256Hex(body));
  }

  /** The lower-case hex SHA-256 digest of {@code bytes}; null counts as no bytes. */
  public static String sha256Hex(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      return EMPTY_PAYLOAD_SHA256;
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }
}
