package dev.kiln.store;

import java.util.function.Function;

/**
 * Durable metadata: accounts, functions, versions, aliases. Every change happens inside one
 * transaction that is durable (survives kill -9) once {@link #write} returns.
 *
 * <p>Implementations: {@link SqliteStore} (embedded default) and {@link PostgresStore}; both pass
 * the same contract suite.
 */
public interface MetadataStore extends AutoCloseable {

  /** Runs {@code work} in a read-only transaction. */
  <T> T read(Function<StoreTransaction, T> work);

  /**
   * Runs {@code work} in a read-write transaction and commits it. Function rows read through
   * {@link StoreTransaction#function} are locked until commit, so two writers to one function are
   * serialized. An exception thrown by {@code work} rolls the transaction back and propagates.
   */
  <T> T write(Function<StoreTransaction, T> work);

  /** Which engine this is, for logs and start-up output. */
  String describe();

  @Override
  void close();
}
