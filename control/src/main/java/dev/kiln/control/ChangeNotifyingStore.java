package dev.kiln.control;

import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreTransaction;
import java.util.function.Function;

/**
 * The control plane's view of the store: after every write, committed or not, it tells the caches
 * built on reads that what they hold may be out of date.
 */
final class ChangeNotifyingStore implements MetadataStore {
  private final MetadataStore store;
  private final Runnable changed;

  ChangeNotifyingStore(MetadataStore store, Runnable changed) {
    this.store = store;
    this.changed = changed;
  }

  @Override
  public <T> T read(Function<StoreTransaction, T> work) {
    return store.read(work);
  }

  @Override
  public <T> T write(Function<StoreTransaction, T> work) {
    try {
      return store.write(work);
    } finally {
      changed.run();
    }
  }

  @Override
  public String describe() {
    return store.describe();
  }

  @Override
  public void close() {
    store.close();
  }
}
