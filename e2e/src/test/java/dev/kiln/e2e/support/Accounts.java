package dev.kiln.e2e.support;

import dev.kiln.core.Credential;
import dev.kiln.store.StoreConfig;
import dev.kiln.store.Stores;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Accounts beyond the default one: an account is a row in the credentials table, added here as the
 * server adds the default account's (through the store, into {@code <data-dir>/kiln.db}) while the
 * server runs; the server finds the key on its next request.
 */
public final class Accounts {
  private Accounts() {}

  /** A fresh access key and secret for {@code account} in the SQLite store of the server with this data dir. */
  public static Credential addCredential(Path dataDir, String account) {
    var suffix = UUID.randomUUID().toString().replace("-", "").toUpperCase();
    var credential = new Credential("AKIA" + suffix.substring(0, 16), "secret-" + suffix, account);
    try (var store = Stores.open(new StoreConfig.Sqlite(dataDir.resolve("kiln.db")))) {
      store.write(tx -> {
        tx.insertCredential(credential);
        return null;
      });
    }
    return credential;
  }
}
