package dev.kiln.store;

import dev.kiln.core.FunctionUrlConfig;
import java.util.List;
import java.util.Optional;

/**
 * The tables of function URL configurations, inside one {@link StoreTransaction}. A configuration
 * is keyed by (account, function, qualifier) and found by its url id when a request arrives; it
 * goes with its function.
 */
public interface FunctionUrlStore {

  Optional<FunctionUrlConfig> functionUrl(String account, String functionName, String qualifier);

  /** The configuration whose URL host carries this id, in any account. */
  Optional<FunctionUrlConfig> functionUrlById(String urlId);

  /**
   * Inserts a new configuration; false when its url id is taken already (the caller draws another).
   *
   * @throws DuplicateKeyException when the function already has a URL for this qualifier
   * @throws IllegalStateException when the function does not exist
   */
  boolean insertFunctionUrl(FunctionUrlConfig config);

  /** Replaces the configuration with the same key; a missing one is a caller bug ({@link IllegalStateException}). */
  void updateFunctionUrl(FunctionUrlConfig config);

  /** Whether there was a configuration to delete. */
  boolean deleteFunctionUrl(String account, String functionName, String qualifier);

  /**
   * The function's configurations ordered by qualifier ($LATEST before any alias), starting after
   * {@code afterQualifier} (null: from the start).
   */
  List<FunctionUrlConfig> functionUrls(String account, String functionName, String afterQualifier, int limit);
}
