package dev.kiln.api;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Presigned download links for code packages, like the S3 links Lambda's GetFunction returns:
 * anyone holding the link may download that one package until it expires, without credentials.
 */
final class CodeLinks {
  static final Duration VALIDITY = Duration.ofMinutes(10);

  private final byte[] key;
  private final Clock clock;

  CodeLinks(byte[] key, Clock clock) {
    this.key = key.clone();
    this.clock = clock;
  }

  String link(String baseUrl, String account, String sha256Hex) {
    long expires = clock.instant().plus(VALIDITY).getEpochSecond();
    return baseUrl + "/kiln/code/" + account + "/" + sha256Hex + ".zip?expires=" + expires + "&signature="
        + sign(account, sha256Hex, expires);
  }

  boolean valid(String account, String sha256Hex, String expires, String signature) {
    long expiresAt;
    try {
      expiresAt = Long.parseLong(expires);
    } catch (NumberFormatException e) {
      return false;
    }
    if (clock.instant().getEpochSecond() > expiresAt) {
      return false;
    }
    var expected = sign(account, sha256Hex, expiresAt).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII));
  }

  private String sign(String account, String sha256Hex, long expires) {
    try {
      var mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      var text = account + "\n" + sha256Hex + "\n" + expires;
      return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
