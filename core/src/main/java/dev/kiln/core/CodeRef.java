package dev.kiln.core;

import java.util.Base64;
import java.util.HexFormat;

/** A code package in the content-addressed store: its SHA-256 and its size in bytes. */
public record CodeRef(String sha256Hex, long size) {
  public CodeRef {
    if (sha256Hex == null || !sha256Hex.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("not a SHA-256 hex digest: " + sha256Hex);
    }
  }

  /** Lambda reports CodeSha256 as the base64 of the digest, not hex. */
  public String sha256Base64() {
    return Base64.getEncoder().encodeToString(HexFormat.of().parseHex(sha256Hex));
  }
}
