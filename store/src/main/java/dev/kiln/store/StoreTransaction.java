package dev.kiln.store;

import dev.kiln.core.Alias;
import dev.kiln.core.Credential;
import dev.kiln.core.FunctionRecord;
import dev.kiln.core.FunctionVersion;
import java.util.List;
import java.util.Optional;

/**
 * The operations available inside one transaction of a {@link MetadataStore}. Lookups return empty
 * when nothing matches; inserts of something that exists throw {@link DuplicateKeyException}.
 */
public interface StoreTransaction {

  Optional<Credential> credential(String accessKeyId);

  void insertCredential(Credential credential);

  /** Every account that has a credential, in order. */
  List<String> accounts();

  /** Every credential of an account, oldest first. */
  List<Credential> credentials(String account);

  /** In a write transaction the function's row stays locked until commit. */
  Optional<FunctionRecord> function(String account, String name);

  void insertFunction(FunctionRecord function);

  void updateFunction(FunctionRecord function);

  /** Deletes the function with all its versions and aliases. */
  void deleteFunction(String account, String name);

  /** Functions of an account ordered by name, starting after {@code afterName} (null: from the start). */
  List<FunctionRecord> functions(String account, String afterName, int limit);

  Optional<FunctionVersion> version(String account, String functionName, String version);

  /** Inserts or replaces the version identified by (account, functionName, version). */
  void putVersion(FunctionVersion version);

  void deleteVersion(String account, String functionName, String version);

  /**
   * Versions of a function: {@code $LATEST} first, then published versions in numeric order,
   * starting after {@code afterVersion} (null: from the start).
   */
  List<FunctionVersion> versions(String account, String functionName, String afterVersion, int limit);

  Optional<Alias> alias(String account, String functionName, String alias);

  /** Inserts or replaces the alias identified by (account, functionName, name). */
  void putAlias(Alias alias);

  void deleteAlias(String account, String functionName, String alias);

  /** Aliases of a function ordered by name. */
  List<Alias> aliases(String account, String functionName);

  /** Number of functions the account has. */
  long functionCount(String account);

  /** Sum of the code sizes of every version of every function of the account, as Lambda counts it. */
  long totalCodeSize(String account);

  /**
   * Versions of every account whose State is Pending or whose LastUpdateStatus is InProgress: the
   * changes accepted but not yet activated when the server stopped.
   */
  List<FunctionVersion> versionsAwaitingActivation();

  /** Whether any version in any account still uses the code package, so it may not be deleted. */
  boolean codeInUse(String sha256Hex);

  /** The tables of accepted asynchronous invocations (the durable event queue) and each function's event-invoke configuration. */
  AsyncStore async();

  /** The tables of event-source mappings and the positions their pollers have reached. */
  EventSourceMappingStore eventSourceMappings();

  /** The tables of cron and rate schedules and when each last fired. */
  ScheduleStore schedules();

  /** The tables of function URL configurations. */
  FunctionUrlStore functionUrls();

  /** The tables of batch jobs over a data set and the checkpoint of every item. */
  BatchStore batches();
}
