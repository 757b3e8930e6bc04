package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.TreeMap;

/**
 * What makes two invocations able to share an environment: same function version, same code, same
 * configuration. A $LATEST whose code or settings change gets a new key, so old environments are
 * never handed requests for the new configuration.
 */
record FunctionKey(String account, String functionName, String version, String fingerprint) {

  static FunctionKey of(FunctionVersion v) {
    var text = String.join("\u0000", v.code().sha256Hex(), v.runtime(), String.valueOf(v.handler()),
        Integer.toString(v.memorySize()), Integer.toString(v.timeout()), Integer.toString(v.ephemeralStorageSize()),
        new TreeMap<>(v.environment()).toString(), v.architectures().toString());
    try {
      var digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return new FunctionKey(v.account(), v.functionName(), v.version(), HexFormat.of().formatHex(digest, 0, 12));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
