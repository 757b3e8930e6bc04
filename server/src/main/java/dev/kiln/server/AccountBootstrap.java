package dev.kiln.server;

import dev.kiln.core.Credential;
import dev.kiln.core.PrivateFiles;
import dev.kiln.store.MetadataStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.function.Function;

/**
 * The default account and its credentials: created on first start, kept in the store, and written
 * to {@code <data>/credentials} in the aws CLI's format so tools can use them. More accounts are
 * more rows in the same table.
 */
final class AccountBootstrap {
  static final Credential DEV = new Credential("test", "test", KilnConfig.DEFAULT_ACCOUNT);
  private static final String KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  private static final String SECRET_ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  private static final SecureRandom RANDOM = new SecureRandom();

  private AccountBootstrap() {}

  /** Returns the default account's first credential, creating it if the store has none. */
  static Credential ensureDefault(MetadataStore store) {
    return store.write(tx -> {
      var existing = tx.credentials(KilnConfig.DEFAULT_ACCOUNT);
      if (!existing.isEmpty()) {
        return existing.getFirst();
      }
      var created = new Credential("AKIA" + random(KEY_ALPHABET, 16), random(SECRET_ALPHABET, 40),
          KilnConfig.DEFAULT_ACCOUNT);
      tx.insertCredential(created);
      return created;
    });
  }

  /**
   * How the API finds a credential by access key. Dev credentials are never stored: they work only
   * while the node runs with the flag.
   */
  static Function<String, Optional<Credential>> lookup(MetadataStore store, boolean devCredentials) {
    return accessKeyId -> {
      if (devCredentials && DEV.accessKeyId().equals(accessKeyId)) {
        return Optional.of(DEV);
      }
      return store.read(tx -> tx.credential(accessKeyId));
    };
  }

  static void writeCredentialsFile(Path dataDir, Credential credential, String region) throws IOException {
    var text = "[default]\naws_access_key_id = " + credential.accessKeyId() + "\naws_secret_access_key = "
        + credential.secretAccessKey() + "\nregion = " + region + "\n";
    PrivateFiles.write(dataDir.resolve("credentials"), text.getBytes(StandardCharsets.UTF_8));
  }

  /** A node-local secret, created once; signs code download links so they survive restarts. */
  static byte[] codeLinkKey(Path dataDir) throws IOException {
    var file = dataDir.resolve("code-link.key");
    if (Files.exists(file)) {
      PrivateFiles.restrict(file); // an earlier Kiln may have left it readable
      return Files.readAllBytes(file);
    }
    var key = new byte[32];
    RANDOM.nextBytes(key);
    PrivateFiles.write(file, key);
    return key;
  }

  private static String random(String alphabet, int length) {
    var sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
