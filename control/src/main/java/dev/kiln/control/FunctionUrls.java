package dev.kiln.control;

import dev.kiln.core.Arns;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionUrlConfig;
import dev.kiln.core.FunctionUrlConfig.AuthType;
import dev.kiln.core.FunctionUrlConfig.Cors;
import dev.kiln.core.FunctionUrlConfig.InvokeMode;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.core.Region;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreTransaction;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Function URL configurations: Create/Get/Update/Delete/ListFunctionUrlConfigs with Lambda's
 * validation and error messages. A URL belongs to a function's $LATEST (no qualifier) or to one of
 * its aliases, never to a version; it goes when its function goes (the store cascades), but
 * outlives a deleted alias, as on Lambda (requests to it are then refused).
 */
public final class FunctionUrls {
  /** Lambda's current model for the Qualifier of these operations: an alias name, not $LATEST nor a number. */
  private static final Pattern QUALIFIER = Pattern.compile("(?!^\\d+$)^[0-9a-zA-Z-_]+$");
  private static final String QUALIFIER_PATTERN_TEXT = "((?!^\\d+$)^[0-9a-zA-Z-_]+$)";
  private static final String NO_FUNCTION = "Function does not exist";
  private static final String NO_RESOURCE = "The resource you requested does not exist.";
  private static final int MAX_LIST_ITEMS = 50;
  private static final int URL_ID_LENGTH = 32;
  private static final char[] URL_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

  private final MetadataStore store;
  private final Region region;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public FunctionUrls(MetadataStore store, Region region, Clock clock) {
    this.store = store;
    this.region = region;
    this.clock = clock;
  }

  public Region region() {
    return region;
  }

  public FunctionUrlConfig create(String account, FunctionRef ref, FunctionUrlRequest request) {
    var qualifier = qualifierOf(account, ref);
    var violations = new Violations();
    var authType = authType(request.authType(), true, violations);
    var invokeMode = invokeMode(request.invokeMode(), violations);
    checkCors(request.cors(), violations);
    violations.throwIfAny();
    return store.write(tx -> {
      tx.function(account, ref.name()).orElseThrow(() -> KilnException.notFound(NO_FUNCTION));
      var existing = tx.functionUrls().functionUrl(account, ref.name(), qualifier);
      if (existing.isPresent()) {
        throw KilnException.conflict("Failed to create function url config for [functionArn = "
            + functionArn(existing.get()) + "]. Error message:  FunctionUrlConfig exists for this Lambda function");
      }
      if (!FunctionUrlConfig.UNQUALIFIED.equals(qualifier) && tx.alias(account, ref.name(), qualifier).isEmpty()) {
        throw KilnException.notFound(NO_FUNCTION);
      }
      var now = now();
      while (true) {
        var config = new FunctionUrlConfig(account, ref.name(), qualifier, newUrlId(), authType, request.cors(),
            invokeMode, now, now);
        if (tx.functionUrls().insertFunctionUrl(config)) {
          return config;
        }
        // The drawn id is taken (one chance in 36^32): draw again.
      }
    });
  }

  public FunctionUrlConfig get(String account, FunctionRef ref) {
    var qualifier = qualifierOf(account, ref);
    return store.read(tx -> existing(tx, account, ref.name(), qualifier));
  }

  /** UpdateFunctionUrlConfig: members left out keep their values. */
  public FunctionUrlConfig update(String account, FunctionRef ref, FunctionUrlRequest change) {
    var qualifier = qualifierOf(account, ref);
    var violations = new Violations();
    var authType = authType(change.authType(), false, violations);
    var invokeMode = invokeMode(change.invokeMode(), violations);
    checkCors(change.cors(), violations);
    violations.throwIfAny();
    return store.write(tx -> {
      tx.function(account, ref.name()).orElseThrow(() -> KilnException.notFound(NO_FUNCTION));
      if (!FunctionUrlConfig.UNQUALIFIED.equals(qualifier) && tx.alias(account, ref.name(), qualifier).isEmpty()) {
        throw KilnException.notFound(NO_FUNCTION);
      }
      var current = existing(tx, account, ref.name(), qualifier);
      var updated = current.withChanges(
          authType != null ? authType : current.authType(),
          change.cors() != null ? change.cors() : current.cors(),
          invokeMode != null ? invokeMode : current.invokeMode(),
          now());
      tx.functionUrls().updateFunctionUrl(updated);
      return updated;
    });
  }

  public void delete(String account, FunctionRef ref) {
    var qualifier = qualifierOf(account, ref);
    store.write(tx -> {
      tx.function(account, ref.name()).orElseThrow(() -> KilnException.notFound(NO_RESOURCE));
      if (!tx.functionUrls().deleteFunctionUrl(account, ref.name(), qualifier)) {
        throw KilnException.notFound(NO_RESOURCE);
      }
      return null;
    });
  }

  /** ListFunctionUrlConfigs: the function's own URL first, then its aliases' by name; at most 50 a page. */
  public Page<FunctionUrlConfig> list(String account, FunctionRef ref, String marker, Integer maxItems) {
    requireOwnAccount(account, ref);
    if (maxItems != null && maxItems < 1) {
      throw validation("1 validation error detected: Value '" + maxItems
          + "' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1");
    }
    int limit = maxItems == null ? MAX_LIST_ITEMS : Math.min(maxItems, MAX_LIST_ITEMS);
    return store.read(tx -> {
      tx.function(account, ref.name()).orElseThrow(() -> KilnException.notFound(NO_FUNCTION));
      var items = tx.functionUrls().functionUrls(account, ref.name(), marker, limit + 1);
      var page = items.subList(0, Math.min(limit, items.size()));
      return new Page<>(List.copyOf(page), items.size() > limit ? page.getLast().qualifier() : null);
    });
  }

  /** The configuration a request to this url id is for, if any. */
  public Optional<FunctionUrlConfig> byUrlId(String urlId) {
    if (urlId.length() != URL_ID_LENGTH) {
      return Optional.empty();
    }
    return store.read(tx -> tx.functionUrls().functionUrlById(urlId));
  }

  /** The ARN Lambda reports for the URL: unqualified for the function's own, else with the alias. */
  public String functionArn(FunctionUrlConfig config) {
    return config.unqualified()
        ? Arns.function(region, config.account(), config.functionName())
        : Arns.function(region, config.account(), config.functionName(), config.qualifier());
  }

  // ---- validation ------------------------------------------------------------------------

  /** The qualifier a request names (in the name or the Qualifier parameter), checked as Lambda's model does. */
  private static String qualifierOf(String account, FunctionRef ref) {
    requireOwnAccount(account, ref);
    if (ref.qualifier().isEmpty()) {
      return FunctionUrlConfig.UNQUALIFIED;
    }
    var qualifier = ref.qualifier().get();
    if (!QUALIFIER.matcher(qualifier).matches()) {
      throw validation("1 validation error detected: Value '" + qualifier + "' at 'qualifier' failed to satisfy "
          + "constraint: Member must satisfy regular expression pattern: " + QUALIFIER_PATTERN_TEXT);
    }
    return qualifier;
  }

  private static void requireOwnAccount(String account, FunctionRef ref) {
    if (ref.account().isPresent() && !ref.account().get().equals(account)) {
      throw new KilnException(ErrorCode.AccessDeniedException,
          "User is not authorized to access this resource: the ARN names another account.");
    }
  }

  private static AuthType authType(String raw, boolean required, Violations violations) {
    if (raw == null) {
      if (required) {
        violations.add("Value null at 'authType' failed to satisfy constraint: Member must not be null");
      }
      return null;
    }
    try {
      return AuthType.valueOf(raw);
    } catch (IllegalArgumentException e) {
      violations.add("Value '" + raw + "' at 'authType' failed to satisfy constraint: Member must satisfy enum "
          + "value set: [AWS_IAM, NONE]");
      return null;
    }
  }

  private static InvokeMode invokeMode(String raw, Violations violations) {
    if (raw == null) {
      return null;
    }
    try {
      return InvokeMode.valueOf(raw);
    } catch (IllegalArgumentException e) {
      violations.add("Value '" + raw + "' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum "
          + "value set: [RESPONSE_STREAM, BUFFERED]");
      return null;
    }
  }

  /** The limits of Lambda's Cors shape: list sizes, member lengths and MaxAge's range. */
  private static void checkCors(Cors cors, Violations violations) {
    if (cors == null) {
      return;
    }
    checkList(cors.allowHeaders(), "cors.allowHeaders", 100, 0, 1024, violations);
    checkList(cors.allowMethods(), "cors.allowMethods", 6, 0, 6, violations);
    checkList(cors.allowOrigins(), "cors.allowOrigins", 100, 1, 253, violations);
    checkList(cors.exposeHeaders(), "cors.exposeHeaders", 100, 0, 1024, violations);
    if (cors.maxAge() != null && cors.maxAge() < 0) {
      violations.add("Value '" + cors.maxAge() + "' at 'cors.maxAge' failed to satisfy constraint: Member must "
          + "have value greater than or equal to 0");
    }
    if (cors.maxAge() != null && cors.maxAge() > 86_400) {
      violations.add("Value '" + cors.maxAge() + "' at 'cors.maxAge' failed to satisfy constraint: Member must "
          + "have value less than or equal to 86400");
    }
  }

  private static void checkList(List<String> values, String member, int maxItems, int minLength, int maxLength,
      Violations violations) {
    if (values == null) {
      return;
    }
    if (values.size() > maxItems) {
      violations.add("Value '" + values + "' at '" + member + "' failed to satisfy constraint: Member must have "
          + "length less than or equal to " + maxItems);
    }
    for (var value : values) {
      if (value.length() > maxLength) {
        violations.add("Value '" + value + "' at '" + member + "' failed to satisfy constraint: Member must have "
            + "length less than or equal to " + maxLength);
      } else if (value.length() < minLength) {
        violations.add("Value '" + value + "' at '" + member + "' failed to satisfy constraint: Member must have "
            + "length greater than or equal to " + minLength);
      }
    }
  }

  /** Collects model violations to report them all at once, in Lambda's "N validation errors" form. */
  private static final class Violations {
    private final List<String> messages = new ArrayList<>();

    void add(String message) {
      messages.add(message);
    }

    void throwIfAny() {
      if (messages.isEmpty()) {
        return;
      }
      var count = messages.size() == 1 ? "1 validation error" : messages.size() + " validation errors";
      throw validation(count + " detected: " + String.join("; ", messages));
    }
  }

  private static KilnException validation(String message) {
    return new KilnException(ErrorCode.ValidationException, message);
  }

  // ---- internals -------------------------------------------------------------------------

  private static FunctionUrlConfig existing(StoreTransaction tx, String account, String function, String qualifier) {
    return tx.functionUrls().functionUrl(account, function, qualifier)
        .orElseThrow(() -> KilnException.notFound(NO_RESOURCE));
  }

  private String newUrlId() {
    var id = new char[URL_ID_LENGTH];
    for (int i = 0; i < id.length; i++) {
      id[i] = URL_ID_CHARS[random.nextInt(URL_ID_CHARS.length)];
    }
    return new String(id);
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }
}
