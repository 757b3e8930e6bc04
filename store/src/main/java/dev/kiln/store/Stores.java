package dev.kiln.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens the metadata store a configuration names. */
public final class Stores {
  private static final Logger LOG = LoggerFactory.getLogger(Stores.class);

  private Stores() {}

  /**
   * Opens the store and applies pending schema migrations before returning it.
   *
   * @throws StoreException when the database cannot be reached, opened or migrated
   */
  public static MetadataStore open(StoreConfig config) {
    MetadataStore store =
        switch (config) {
          case StoreConfig.Sqlite sqlite -> SqliteStore.open(sqlite);
          case StoreConfig.Postgres postgres -> PostgresStore.open(postgres);
        };
    LOG.info("Metadata store: {}", store.describe());
    return store;
  }
}
