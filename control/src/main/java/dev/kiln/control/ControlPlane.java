package dev.kiln.control;

import static dev.kiln.core.KilnException.conflict;
import static dev.kiln.core.KilnException.invalid;
import static dev.kiln.core.KilnException.notFound;

import dev.kiln.core.Alias;
import dev.kiln.core.Arns;
import dev.kiln.core.CodeRef;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionRecord;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.KilnException;
import dev.kiln.core.LastUpdateStatus;
import dev.kiln.core.Limits;
import dev.kiln.core.ProvisionedConcurrency;
import dev.kiln.core.Region;
import dev.kiln.store.CodeStore;
import dev.kiln.store.DuplicateKeyException;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreTransaction;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Lambda's control plane: functions, versions, aliases and tags of one account at a time. Every
 * operation is one store transaction; the function row lock serializes concurrent changes to one
 * function, so RevisionId checks and version numbering are race-free.
 */
public final class ControlPlane {
  private static final Pattern ALIAS_NAME = Pattern.compile("(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}");
  private static final Pattern VERSION_NUMBER = Pattern.compile("[0-9]{1,20}");

  private final MetadataStore store;
  private final CodeStore codeStore;
  private final Region region;
  private final Clock clock;
  private final CodeActivation activation;
  private final InvokeTargets invokeTargets = new InvokeTargets(System::nanoTime);

  public ControlPlane(
      MetadataStore store, CodeStore codeStore, Region region, Clock clock, CodeActivation activation) {
    this.store = new ChangeNotifyingStore(store, invokeTargets::changed);
    this.codeStore = codeStore;
    this.region = region;
    this.clock = clock;
    this.activation = activation;
  }

  public Region region() {
    return region;
  }

  // ---- functions -------------------------------------------------------------------------

  /** Returns the new function's $LATEST (or the published version when Publish is set), Pending. */
  public FunctionVersion createFunction(String account, CreateFunctionRequest request) {
    var ref = FunctionRef.parse(request.functionName(), null);
    requireOwnAccount(account, ref);
    if (ref.qualifier().isPresent()) {
      throw invalid("FunctionName must not carry a qualifier when creating a function.");
    }
    var change = request.configuration();
    ConfigurationRules.check(change, true);
    var tags = request.tags() == null ? Map.<String, String>of() : request.tags();
    ConfigurationRules.checkTags(tags);
    ZipPackage.validate(request.zip());
    CodeRef code = codeStore.put(request.zip());
    Instant now = now();
    var latest = new FunctionVersion(account, ref.name(), FunctionVersion.LATEST, change.runtime(), change.handler(),
        change.role(), change.description(), orDefault(change.memorySize(), Limits.DEFAULT_MEMORY_MB),
        orDefault(change.timeout(), Limits.DEFAULT_TIMEOUT_S),
        orDefault(change.ephemeralStorageSize(), Limits.MIN_EPHEMERAL_MB), change.environment(),
        change.architectures(), code, now, newRevision(), FunctionState.Pending, LastUpdateStatus.Successful,
        change.deadLetterTargetArn());
    var created = store.write(tx -> {
      checkCodeStorage(tx, account, code.size());
      try {
        tx.insertFunction(new FunctionRecord(account, ref.name(), tags, 0, now));
      } catch (DuplicateKeyException e) {
        throw conflict("Function already exist: " + ref.name());
      }
      tx.putVersion(latest);
      if (!request.publish()) {
        return latest;
      }
      var function = tx.function(account, ref.name()).orElseThrow();
      return publish(tx, function, latest, null);
    });
    activation.activate(created);
    return created;
  }

  public FunctionDetails getFunction(String account, FunctionRef ref) {
    requireOwnAccount(account, ref);
    return store.read(tx -> {
      var function = tx.function(account, ref.name()).orElseThrow(() -> functionNotFound(account, ref));
      var version = resolve(tx, account, ref);
      return new FunctionDetails(version, function.tags(), ref.qualifier().orElse(null),
          function.reservedConcurrency());
    });
  }

  public FunctionVersion getConfiguration(String account, FunctionRef ref) {
    requireOwnAccount(account, ref);
    return store.read(tx -> resolve(tx, account, ref));
  }

  /** ListFunctions: $LATEST of each function, or every version too when {@code allVersions}. */
  public Page<FunctionVersion> listFunctions(String account, String marker, Integer maxItems, boolean allVersions) {
    int limit = pageSize(maxItems);
    return store.read(tx -> {
      var functions = tx.functions(account, marker, limit + 1);
      var items = new ArrayList<FunctionVersion>();
      for (var function : functions.subList(0, Math.min(limit, functions.size()))) {
        if (allVersions) {
          items.addAll(tx.versions(account, function.name(), null, Integer.MAX_VALUE));
        } else {
          tx.version(account, function.name(), FunctionVersion.LATEST).ifPresent(items::add);
        }
      }
      String next = functions.size() > limit ? functions.get(limit - 1).name() : null;
      return new Page<>(items, next);
    });
  }

  public FunctionVersion updateFunctionCode(String account, FunctionRef ref, UpdateCodeRequest request) {
    requireOwnAccount(account, ref);
    requireUnqualifiedOrLatest(ref);
    if (request.architectures() != null) {
      ConfigurationRules.checkArchitectures(request.architectures());
    }
    ZipPackage.validate(request.zip());
    CodeRef code = codeStore.put(request.zip());
    var result = store.write(tx -> {
      var function = lockFunction(tx, account, ref);
      var latest = latest(tx, account, ref.name());
      checkRevision(latest.revisionId(), request.revisionId());
      requireNoUpdateInProgress(latest);
      checkCodeStorage(tx, account, code.size());
      var updated = new FunctionVersion(account, ref.name(), FunctionVersion.LATEST, latest.runtime(),
          latest.handler(), latest.role(), latest.description(), latest.memorySize(), latest.timeout(),
          latest.ephemeralStorageSize(), latest.environment(),
          request.architectures() == null ? latest.architectures() : request.architectures(), code, now(),
          newRevision(), latest.state(), LastUpdateStatus.InProgress, latest.deadLetterTargetArn());
      tx.putVersion(updated);
      return request.publish() ? publish(tx, function, updated, null) : updated;
    });
    activation.activate(result);
    return result;
  }

  public FunctionVersion updateFunctionConfiguration(
      String account, FunctionRef ref, ConfigurationChange change, String revisionId) {
    requireOwnAccount(account, ref);
    requireUnqualifiedOrLatest(ref);
    ConfigurationRules.check(change, false);
    var result = store.write(tx -> {
      lockFunction(tx, account, ref);
      var latest = latest(tx, account, ref.name());
      checkRevision(latest.revisionId(), revisionId);
      requireNoUpdateInProgress(latest);
      var updated = new FunctionVersion(account, ref.name(), FunctionVersion.LATEST,
          pick(change.runtime(), latest.runtime()), pick(change.handler(), latest.handler()),
          pick(change.role(), latest.role()), pick(change.description(), latest.description()),
          pick(change.memorySize(), latest.memorySize()), pick(change.timeout(), latest.timeout()),
          pick(change.ephemeralStorageSize(), latest.ephemeralStorageSize()),
          pick(change.environment(), latest.environment()), pick(change.architectures(), latest.architectures()),
          latest.code(), now(), newRevision(), latest.state(), LastUpdateStatus.InProgress,
          pick(change.deadLetterTargetArn(), latest.deadLetterTargetArn()));
      tx.putVersion(updated);
      return updated;
    });
    activation.activate(result);
    return result;
  }

  /**
   * Called by {@link CodeActivation} once the function's code is ready to run: every version still
   * Pending or InProgress becomes Active / Successful, with a new RevisionId.
   */
  public void markReady(String account, String functionName) {
    store.write(tx -> {
      if (tx.function(account, functionName).isEmpty()) {
        return null;
      }
      for (var v : tx.versions(account, functionName, null, Integer.MAX_VALUE)) {
        if (v.state() == FunctionState.Pending || v.lastUpdateStatus() == LastUpdateStatus.InProgress) {
          tx.putVersion(v.withStatus(FunctionState.Active, LastUpdateStatus.Successful, newRevision()));
        }
      }
      return null;
    });
  }

  /** Versions still Pending or InProgress, e.g. after a crash between acceptance and activation. */
  public List<FunctionVersion> versionsAwaitingActivation() {
    return store.read(StoreTransaction::versionsAwaitingActivation);
  }

  public void deleteFunction(String account, FunctionRef ref) {
    requireOwnAccount(account, ref);
    store.write(tx -> {
      lockFunction(tx, account, ref);
      var qualifier = ref.qualifier();
      if (qualifier.isEmpty()) {
        tx.deleteFunction(account, ref.name());
        return null;
      }
      var version = qualifier.get();
      if (FunctionVersion.LATEST.equals(version)) {
        throw invalid("$LATEST version cannot be deleted without deleting the function.");
      }
      if (!VERSION_NUMBER.matcher(version).matches()) {
        throw invalid("Deletion of aliases is not supported.");
      }
      if (tx.version(account, ref.name(), version).isEmpty()) {
        throw notFound("Function not found: " + arn(account, ref.name(), version));
      }
      var users = tx.aliases(account, ref.name()).stream()
          .filter(a -> a.functionVersion().equals(version) || a.additionalWeights().containsKey(version))
          .map(Alias::name)
          .toList();
      if (!users.isEmpty()) {
        throw conflict("Unable to delete version because the following aliases reference it: " + users);
      }
      tx.deleteVersion(account, ref.name(), version);
      return null;
    });
  }

  /**
   * The version an Invoke runs: $LATEST, the version named, or, for an alias, its primary version
   * or (with the configured probability) its additional version. Refuses functions that are not
   * Active yet, as Lambda does.
   */
  public FunctionVersion resolveForInvoke(String account, FunctionRef ref, double random) {
    requireOwnAccount(account, ref);
    var qualifier = ref.qualifierOr(FunctionVersion.LATEST);
    var target = invokeTargets.get(account, ref.name(), qualifier);
    if (target == null) {
      long generation = invokeTargets.generation();
      long readAt = invokeTargets.now();
      target = store.read(tx -> {
        if (!FunctionVersion.LATEST.equals(qualifier) && !VERSION_NUMBER.matcher(qualifier).matches()) {
          var alias = tx.alias(account, ref.name(), qualifier).orElseThrow(() -> functionNotFound(account, ref));
          var versions = new java.util.HashMap<String, FunctionVersion>();
          for (var number : alias.additionalWeights().keySet()) {
            versions.put(number, tx.version(account, ref.name(), number).orElseThrow(() -> functionNotFound(account, ref)));
          }
          versions.put(alias.functionVersion(), tx.version(account, ref.name(), alias.functionVersion())
              .orElseThrow(() -> functionNotFound(account, ref)));
          return new InvokeTargets.Target(alias, Map.copyOf(versions));
        }
        var version = resolve(tx, account, ref);
        return new InvokeTargets.Target(null, Map.of(version.version(), version));
      });
      invokeTargets.put(account, ref.name(), qualifier, target, generation, readAt);
    }
    var version = target.choose(random);
    if (version.state() != FunctionState.Active) {
      throw conflict("The operation cannot be performed at this time. The function is currently in the following "
          + "state: " + version.state());
    }
    return version;
  }

  // ---- versions --------------------------------------------------------------------------

  public FunctionVersion publishVersion(
      String account, FunctionRef ref, String codeSha256, String description, String revisionId) {
    requireOwnAccount(account, ref);
    requireUnqualifiedOrLatest(ref);
    if (description != null && description.length() > Limits.MAX_DESCRIPTION_LENGTH) {
      throw invalid("1 validation error detected: Value at 'description' failed to satisfy constraint: "
          + "Member must have length less than or equal to " + Limits.MAX_DESCRIPTION_LENGTH);
    }
    return store.write(tx -> {
      var function = lockFunction(tx, account, ref);
      var latest = latest(tx, account, ref.name());
      if (codeSha256 != null && !codeSha256.equals(latest.code().sha256Base64())) {
        throw invalid("CodeSHA256 (" + codeSha256 + ") is different from current CodeSHA256 in $LATEST ("
            + latest.code().sha256Base64() + "). Please try again.");
      }
      checkRevision(latest.revisionId(), revisionId);
      requireNoUpdateInProgress(latest);
      var sameAsLast = function.lastPublishedVersion() == 0 ? Optional.<FunctionVersion>empty()
          : tx.version(account, ref.name(), Long.toString(function.lastPublishedVersion()));
      if (sameAsLast.isPresent() && sameContent(sameAsLast.get(), latest, description)) {
        return sameAsLast.get();
      }
      return publish(tx, function, latest, description);
    });
  }

  public Page<FunctionVersion> listVersions(String account, FunctionRef ref, String marker, Integer maxItems) {
    requireOwnAccount(account, ref);
    int limit = pageSize(maxItems);
    return store.read(tx -> {
      tx.function(account, ref.name()).orElseThrow(() -> functionNotFound(account, ref));
      var versions = tx.versions(account, ref.name(), marker, limit + 1);
      String next = versions.size() > limit ? versions.get(limit - 1).version() : null;
      return new Page<>(versions.subList(0, Math.min(limit, versions.size())), next);
    });
  }

  // ---- aliases ---------------------------------------------------------------------------

  public Alias createAlias(String account, FunctionRef ref, String name, AliasChange change) {
    requireOwnAccount(account, ref);
    if (name == null || !ALIAS_NAME.matcher(name).matches()) {
      throw invalid("1 validation error detected: Value '" + name + "' at 'name' failed to satisfy constraint: "
          + "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)");
    }
    if (change.functionVersion() == null) {
      throw invalid("1 validation error detected: Value null at 'functionVersion' failed to satisfy constraint: "
          + "Member must not be null");
    }
    return store.write(tx -> {
      lockFunction(tx, account, ref);
      if (tx.alias(account, ref.name(), name).isPresent()) {
        throw conflict("Alias already exists: " + arn(account, ref.name(), name));
      }
      var weights = change.additionalWeights() == null ? Map.<String, Double>of() : change.additionalWeights();
      checkAliasTargets(tx, account, ref.name(), change.functionVersion(), weights);
      var alias = new Alias(account, ref.name(), name, change.functionVersion(), change.description(), weights,
          newRevision());
      tx.putAlias(alias);
      return alias;
    });
  }

  public Alias getAlias(String account, FunctionRef ref, String name) {
    requireOwnAccount(account, ref);
    return store.read(tx -> {
      tx.function(account, ref.name()).orElseThrow(() -> functionNotFound(account, ref));
      return tx.alias(account, ref.name(), name).orElseThrow(() -> aliasNotFound(account, ref.name(), name));
    });
  }

  public Alias updateAlias(String account, FunctionRef ref, String name, AliasChange change) {
    requireOwnAccount(account, ref);
    return store.write(tx -> {
      lockFunction(tx, account, ref);
      var current = tx.alias(account, ref.name(), name).orElseThrow(() -> aliasNotFound(account, ref.name(), name));
      checkRevision(current.revisionId(), change.revisionId());
      var version = pick(change.functionVersion(), current.functionVersion());
      var weights = pick(change.additionalWeights(), current.additionalWeights());
      checkAliasTargets(tx, account, ref.name(), version, weights);
      var updated = new Alias(account, ref.name(), name, version, pick(change.description(), current.description()),
          weights, newRevision());
      tx.putAlias(updated);
      return updated;
    });
  }

  public void deleteAlias(String account, FunctionRef ref, String name) {
    requireOwnAccount(account, ref);
    store.write(tx -> {
      lockFunction(tx, account, ref);
      tx.alias(account, ref.name(), name).orElseThrow(() -> aliasNotFound(account, ref.name(), name));
      tx.deleteAlias(account, ref.name(), name);
      return null;
    });
  }

  /** ListAliases, optionally only aliases that route to {@code functionVersion}. */
  public Page<Alias> listAliases(
      String account, FunctionRef ref, String functionVersion, String marker, Integer maxItems) {
    requireOwnAccount(account, ref);
    int limit = pageSize(maxItems);
    return store.read(tx -> {
      tx.function(account, ref.name()).orElseThrow(() -> functionNotFound(account, ref));
      var matching = tx.aliases(account, ref.name()).stream()
          .filter(a -> functionVersion == null || a.functionVersion().equals(functionVersion)
              || a.additionalWeights().containsKey(functionVersion))
          .filter(a -> marker == null || a.name().compareTo(marker) > 0)
          .toList();
      String next = matching.size() > limit ? matching.get(limit - 1).name() : null;
      return new Page<>(matching.subList(0, Math.min(limit, matching.size())), next);
    });
  }

  // ---- tags ------------------------------------------------------------------------------

  public Map<String, String> listTags(String account, String resourceArn) {
    var ref = taggableFunction(account, resourceArn);
    return store.read(tx -> tx.function(account, ref.name()).orElseThrow(() -> functionNotFound(account, ref)).tags());
  }

  public void tagResource(String account, String resourceArn, Map<String, String> tags) {
    var ref = taggableFunction(account, resourceArn);
    if (tags == null || tags.isEmpty()) {
      throw invalid("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
    }
    store.write(tx -> {
      var function = lockFunction(tx, account, ref);
      var merged = new HashMap<>(function.tags());
      merged.putAll(tags);
      ConfigurationRules.checkTags(merged);
      tx.updateFunction(function.withTags(merged));
      return null;
    });
  }

  public void untagResource(String account, String resourceArn, List<String> keys) {
    var ref = taggableFunction(account, resourceArn);
    store.write(tx -> {
      var function = lockFunction(tx, account, ref);
      var remaining = new HashMap<>(function.tags());
      keys.forEach(remaining::remove);
      tx.updateFunction(function.withTags(remaining));
      return null;
    });
  }

  // ---- reserved concurrency -------------------------------------------------------------

  /**
   * PutFunctionConcurrency: reserves {@code reserved} concurrent executions for the function, as
   * long as the account keeps at least {@code minimumUnreserved} for all other functions.
   */
  public int putFunctionConcurrency(
      String account, FunctionRef ref, int reserved, int accountLimit, int minimumUnreserved) {
    requireOwnAccount(account, ref);
    if (ref.qualifier().isPresent()) {
      throw invalid("Reserved concurrency applies to a whole function: use the function name without a qualifier.");
    }
    if (reserved < 0) {
      throw invalid("1 validation error detected: Value '" + reserved + "' at 'reservedConcurrentExecutions' failed "
          + "to satisfy constraint: Member must have value greater than or equal to 0");
    }
    return store.write(tx -> {
      var function = lockFunction(tx, account, ref);
      long others = reservations(tx, account).entrySet().stream()
          .filter(e -> !e.getKey().equals(ref.name()))
          .mapToLong(Map.Entry::getValue)
          .sum();
      if (accountLimit - (others + reserved) < minimumUnreserved) {
        throw invalid("Specified ReservedConcurrentExecutions for function decreases account's "
            + "UnreservedConcurrentExecution below its minimum value of [" + minimumUnreserved + "].");
      }
      tx.updateFunction(function.withReservedConcurrency(reserved));
      return reserved;
    });
  }

  /** GetFunctionConcurrency: the reservation, or empty when the function has none. */
  public Optional<Integer> getFunctionConcurrency(String account, FunctionRef ref) {
    requireOwnAccount(account, ref);
    return store.read(tx -> Optional.ofNullable(
        tx.function(account, ref.name()).orElseThrow(() -> functionNotFound(account, ref)).reservedConcurrency()));
  }

  public void deleteFunctionConcurrency(String account, FunctionRef ref) {
    requireOwnAccount(account, ref);
    store.write(tx -> {
      var function = lockFunction(tx, account, ref);
      tx.updateFunction(function.withReservedConcurrency(null));
      return null;
    });
  }

  // ---- provisioned concurrency -----------------------------------------------------------

  /**
   * PutProvisionedConcurrencyConfig on a published version or an alias. Returns the stored
   * configuration with the version it provisions (an alias's primary version).
   */
  public ProvisionedTarget putProvisionedConcurrency(String account, FunctionRef ref, int requested) {
    requireOwnAccount(account, ref);
    var qualifier = provisionedQualifier(ref);
    if (requested < 1) {
      throw invalid("1 validation error detected: Value '" + requested + "' at 'provisionedConcurrentExecutions' "
          + "failed to satisfy constraint: Member must have value greater than or equal to 1");
    }
    return store.write(tx -> {
      var function = lockFunction(tx, account, ref);
      var version = resolve(tx, account, ref);
      if (function.reservedConcurrency() != null && requested > function.reservedConcurrency()) {
        throw invalid("Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution "
            + "for function");
      }
      var config = new ProvisionedConcurrency(qualifier, requested, now());
      var configs = new HashMap<>(function.provisioned());
      configs.put(qualifier, config);
      tx.updateFunction(function.withProvisioned(configs));
      return new ProvisionedTarget(account, ref.name(), config, version);
    });
  }

  public ProvisionedTarget getProvisionedConcurrency(String account, FunctionRef ref) {
    requireOwnAccount(account, ref);
    var qualifier = provisionedQualifier(ref);
    return store.read(tx -> {
      var function = tx.function(account, ref.name()).orElseThrow(() -> functionNotFound(account, ref));
      var config = function.provisioned().get(qualifier);
      if (config == null) {
        throw new KilnException(ErrorCode.ProvisionedConcurrencyConfigNotFoundException,
            "No Provisioned Concurrency Config found for this function");
      }
      return new ProvisionedTarget(account, ref.name(), config, resolve(tx, account, ref));
    });
  }

  public void deleteProvisionedConcurrency(String account, FunctionRef ref) {
    requireOwnAccount(account, ref);
    var qualifier = provisionedQualifier(ref);
    store.write(tx -> {
      var function = lockFunction(tx, account, ref);
      if (!function.provisioned().containsKey(qualifier)) {
        throw new KilnException(ErrorCode.ProvisionedConcurrencyConfigNotFoundException,
            "No Provisioned Concurrency Config found for this function");
      }
      var configs = new HashMap<>(function.provisioned());
      configs.remove(qualifier);
      tx.updateFunction(function.withProvisioned(configs));
      return null;
    });
  }

  /** The function's provisioned-concurrency configurations, or every function's when {@code ref} is null. */
  public List<ProvisionedTarget> listProvisionedConcurrency(String account, FunctionRef ref) {
    if (ref != null) {
      requireOwnAccount(account, ref);
    }
    return store.read(tx -> {
      var functions = ref != null
          ? List.of(tx.function(account, ref.name()).orElseThrow(() -> functionNotFound(account, ref)))
          : tx.functions(account, null, Integer.MAX_VALUE);
      var result = new ArrayList<ProvisionedTarget>();
      for (var function : functions) {
        for (var config : function.provisioned().values()) {
          var target = FunctionRef.parse(function.name(), config.qualifier());
          try {
            result.add(new ProvisionedTarget(account, function.name(), config, resolve(tx, account, target)));
          } catch (KilnException e) {
            // The version or alias is gone; the configuration provisions nothing.
          }
        }
      }
      result.sort(java.util.Comparator.comparing((ProvisionedTarget t) -> t.function())
          .thenComparing(t -> t.config().qualifier()));
      return result;
    });
  }

  /** Every provisioned-concurrency configuration of every account, to restore them after a restart. */
  public List<ProvisionedTarget> allProvisionedConcurrency() {
    var accounts = store.read(StoreTransaction::accounts);
    var result = new ArrayList<ProvisionedTarget>();
    for (var account : accounts) {
      result.addAll(listProvisionedConcurrency(account, null));
    }
    return result;
  }

  private static String provisionedQualifier(FunctionRef ref) {
    var qualifier = ref.qualifier().orElseThrow(() -> invalid(
        "Provisioned Concurrency Configs need a Qualifier: a published version or an alias."));
    if (FunctionVersion.LATEST.equals(qualifier)) {
      throw invalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
    }
    return qualifier;
  }

  /** Every reservation of an account, by function name. */
  public Map<String, Integer> reservations(String account) {
    return store.read(tx -> reservations(tx, account));
  }

  private static Map<String, Integer> reservations(StoreTransaction tx, String account) {
    var result = new HashMap<String, Integer>();
    for (var function : tx.functions(account, null, Integer.MAX_VALUE)) {
      if (function.reservedConcurrency() != null) {
        result.put(function.name(), function.reservedConcurrency());
      }
    }
    return result;
  }

  // ---- account and code ------------------------------------------------------------------

  public AccountSettings accountSettings(String account, int concurrentExecutions) {
    return store.read(tx -> {
      int reserved = reservations(tx, account).values().stream().mapToInt(Integer::intValue).sum();
      return new AccountSettings(Limits.MAX_TOTAL_CODE_BYTES, Limits.MAX_UNZIPPED_BYTES,
          Limits.MAX_ZIPPED_UPLOAD_BYTES, concurrentExecutions, concurrentExecutions - reserved,
          tx.totalCodeSize(account), tx.functionCount(account));
    });
  }

  /** The zip of a code package, for the download behind GetFunction's Code.Location. */
  public Optional<InputStream> openCode(String sha256Hex) {
    return codeStore.open(sha256Hex);
  }

  public String arn(String account, String functionName, String qualifier) {
    return qualifier == null ? Arns.function(region, account, functionName)
        : Arns.function(region, account, functionName, qualifier);
  }

  // ---- internals -------------------------------------------------------------------------

  /** Resolves a reference to the version it names: $LATEST, a version number, or an alias's primary version. */
  private FunctionVersion resolve(StoreTransaction tx, String account, FunctionRef ref) {
    var qualifier = ref.qualifierOr(FunctionVersion.LATEST);
    if (tx.function(account, ref.name()).isEmpty()) {
      throw functionNotFound(account, ref);
    }
    if (FunctionVersion.LATEST.equals(qualifier) || VERSION_NUMBER.matcher(qualifier).matches()) {
      return tx.version(account, ref.name(), qualifier).orElseThrow(() -> functionNotFound(account, ref));
    }
    var alias = tx.alias(account, ref.name(), qualifier).orElseThrow(() -> functionNotFound(account, ref));
    return tx.version(account, ref.name(), alias.functionVersion()).orElseThrow(() -> functionNotFound(account, ref));
  }

  private FunctionVersion publish(
      StoreTransaction tx, FunctionRecord function, FunctionVersion latest, String description) {
    long number = function.lastPublishedVersion() + 1;
    tx.updateFunction(function.withLastPublishedVersion(number));
    var published = latest.withVersion(Long.toString(number), now(), newRevision());
    if (description != null) {
      published = new FunctionVersion(published.account(), published.functionName(), published.version(),
          published.runtime(), published.handler(), published.role(), description, published.memorySize(),
          published.timeout(), published.ephemeralStorageSize(), published.environment(), published.architectures(),
          published.code(), published.lastModified(), published.revisionId(), published.state(),
          published.lastUpdateStatus(), published.deadLetterTargetArn());
    }
    tx.putVersion(published);
    return published;
  }

  /** Lambda returns the last version instead of publishing when neither code nor configuration changed. */
  private static boolean sameContent(FunctionVersion published, FunctionVersion latest, String description) {
    return published.code().equals(latest.code())
        && Objects.equals(published.runtime(), latest.runtime())
        && Objects.equals(published.handler(), latest.handler())
        && Objects.equals(published.role(), latest.role())
        && published.memorySize() == latest.memorySize()
        && published.timeout() == latest.timeout()
        && published.ephemeralStorageSize() == latest.ephemeralStorageSize()
        && published.environment().equals(latest.environment())
        && published.architectures().equals(latest.architectures())
        && Objects.equals(published.deadLetterTargetArn(), latest.deadLetterTargetArn())
        && (description == null || description.equals(published.description()));
  }

  private void checkAliasTargets(
      StoreTransaction tx, String account, String function, String version, Map<String, Double> weights) {
    if (tx.version(account, function, version).isEmpty()) {
      throw notFound("Function not found: " + arn(account, function, version));
    }
    if (weights.isEmpty()) {
      return;
    }
    if (weights.size() > 1) {
      throw invalid("Number of items in AdditionalVersionWeights exceeds the limit of 1.");
    }
    if (FunctionVersion.LATEST.equals(version)) {
      throw invalid("$LATEST is not supported for an alias pointing to more than 1 version");
    }
    for (var entry : weights.entrySet()) {
      if (entry.getValue() == null || entry.getValue() < 0.0 || entry.getValue() > 1.0) {
        throw invalid("Invalid function version weight: " + entry.getValue() + ". Weights must be between 0.0 and 1.0.");
      }
      if (entry.getKey().equals(version)) {
        throw invalid("Invalid function version " + entry.getKey()
            + ". Function version cannot be both the primary version and an additional version.");
      }
      if (!VERSION_NUMBER.matcher(entry.getKey()).matches()) {
        throw invalid("$LATEST is not supported for an alias pointing to more than 1 version");
      }
      if (tx.version(account, function, entry.getKey()).isEmpty()) {
        throw invalid("Function version " + entry.getKey() + " does not exist.");
      }
    }
  }

  private FunctionRecord lockFunction(StoreTransaction tx, String account, FunctionRef ref) {
    return tx.function(account, ref.name()).orElseThrow(() -> functionNotFound(account, ref));
  }

  private FunctionVersion latest(StoreTransaction tx, String account, String name) {
    return tx.version(account, name, FunctionVersion.LATEST)
        .orElseThrow(() -> notFound("Function not found: " + arn(account, name, null)));
  }

  private void checkCodeStorage(StoreTransaction tx, String account, long addedBytes) {
    if (tx.totalCodeSize(account) + addedBytes > Limits.MAX_TOTAL_CODE_BYTES) {
      throw new KilnException(ErrorCode.CodeStorageExceededException,
          "Code storage limit exceeded. Delete unused versions or functions.");
    }
  }

  private static void checkRevision(String current, String expected) {
    if (expected != null && !expected.equals(current)) {
      throw KilnException.precondition("The Revision Id provided does not match the latest Revision Id. "
          + "Call the GetFunction/GetAlias API to retrieve the latest Revision Id");
    }
  }

  private void requireNoUpdateInProgress(FunctionVersion latest) {
    if (latest.lastUpdateStatus() == LastUpdateStatus.InProgress || latest.state() == FunctionState.Pending) {
      throw conflict("The operation cannot be performed at this time. An update is in progress for resource: "
          + arn(latest.account(), latest.functionName(), null));
    }
  }

  private static void requireOwnAccount(String account, FunctionRef ref) {
    if (ref.account().isPresent() && !ref.account().get().equals(account)) {
      throw new KilnException(ErrorCode.AccessDeniedException,
          "User is not authorized to access this resource: the ARN names another account.");
    }
  }

  private static void requireUnqualifiedOrLatest(FunctionRef ref) {
    if (ref.qualifier().isPresent() && !FunctionVersion.LATEST.equals(ref.qualifier().get())) {
      throw invalid("This operation is only allowed on the unqualified function or $LATEST.");
    }
  }

  private FunctionRef taggableFunction(String account, String resourceArn) {
    if (resourceArn == null || !resourceArn.startsWith("arn:")) {
      throw invalid("Invalid resource ARN: " + resourceArn);
    }
    var ref = FunctionRef.parse(resourceArn, null);
    requireOwnAccount(account, ref);
    if (ref.qualifier().isPresent()) {
      throw invalid("Tags are not supported on function versions or aliases: " + resourceArn);
    }
    return ref;
  }

  private KilnException functionNotFound(String account, FunctionRef ref) {
    return notFound("Function not found: " + arn(account, ref.name(), ref.qualifier().orElse(null)));
  }

  private KilnException aliasNotFound(String account, String function, String alias) {
    return notFound("Alias not found: " + arn(account, function, alias));
  }

  private static int pageSize(Integer maxItems) {
    if (maxItems == null) {
      return Limits.MAX_LIST_ITEMS;
    }
    if (maxItems < 1 || maxItems > 10_000) {
      throw invalid("1 validation error detected: Value '" + maxItems
          + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000");
    }
    return Math.min(maxItems, Limits.MAX_LIST_ITEMS);
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  private static String newRevision() {
    return UUID.randomUUID().toString();
  }

  private static <T> T pick(T change, T current) {
    return change != null ? change : current;
  }

  private static int orDefault(Integer value, int fallback) {
    return value != null ? value : fallback;
  }
}
