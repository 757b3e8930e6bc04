package dev.kiln.control;

import static dev.kiln.core.KilnException.invalid;
import static dev.kiln.core.KilnException.notFound;

import dev.kiln.core.EventInvokeConfig;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.KilnException;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreTransaction;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Lambda's event-invoke configuration of a function, version or alias: how many times a failed
 * asynchronous invocation is retried, how long an event may wait, and where the invocation record
 * of a success or a discarded event goes. Put replaces a configuration, Update merges into it.
 */
public final class EventInvokeConfigs {
  private static final int MAX_RETRY_ATTEMPTS = 2;
  private static final int MAX_EVENT_AGE_SECONDS = EventInvokeConfig.DEFAULT_MAXIMUM_EVENT_AGE_SECONDS;
  private static final int MAX_LIST_ITEMS = 50;
  private static final int MAX_DESTINATION_LENGTH = 350;
  private static final String DESTINATION_PATTERN =
      "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)";
  private static final Pattern DESTINATION = Pattern.compile(
      "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-]+):([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)");

  private final MetadataStore store;
  private final ControlPlane control;
  private final Clock clock;
  private final boolean queuesConfigured;

  /**
   * @param queuesConfigured whether this node can deliver to SQS queues; without, a queue
   *     destination is refused when it is configured rather than lost when an event needs it
   */
  public EventInvokeConfigs(MetadataStore store, ControlPlane control, Clock clock, boolean queuesConfigured) {
    this.store = store;
    this.control = control;
    this.clock = clock;
    this.queuesConfigured = queuesConfigured;
  }

  /**
   * The members of a Put or Update request; null is a member the client did not send. An empty
   * destination means none.
   */
  public record Change(Integer maximumRetryAttempts, Integer maximumEventAgeSeconds, String onSuccess,
      String onFailure) {}

  /** PutFunctionEventInvokeConfig: the qualifier's configuration becomes exactly {@code change}. */
  public EventInvokeConfig put(String account, FunctionRef ref, Change change) {
    check(account, change);
    var qualifier = existingQualifier(account, ref);
    var config = new EventInvokeConfig(qualifier, change.maximumRetryAttempts(), change.maximumEventAgeSeconds(),
        change.onSuccess(), change.onFailure(), clock.instant().truncatedTo(ChronoUnit.MILLIS));
    store.write(tx -> {
      lockFunction(tx, account, ref);
      tx.async().putConfig(account, ref.name(), config);
      return null;
    });
    return config;
  }

  /** UpdateFunctionEventInvokeConfig: the members sent replace those of the existing configuration. */
  public EventInvokeConfig update(String account, FunctionRef ref, Change change) {
    check(account, change);
    var qualifier = existingQualifier(account, ref);
    return store.write(tx -> {
      lockFunction(tx, account, ref);
      var current = tx.async().config(account, ref.name(), qualifier)
          .orElseThrow(() -> missing(account, ref.name(), qualifier));
      var merged = new EventInvokeConfig(qualifier,
          pick(change.maximumRetryAttempts(), current.maximumRetryAttempts()),
          pick(change.maximumEventAgeSeconds(), current.maximumEventAgeSeconds()),
          pick(change.onSuccess(), current.onSuccess()), pick(change.onFailure(), current.onFailure()),
          clock.instant().truncatedTo(ChronoUnit.MILLIS));
      tx.async().putConfig(account, ref.name(), merged);
      return merged;
    });
  }

  public EventInvokeConfig get(String account, FunctionRef ref) {
    var qualifier = existingQualifier(account, ref);
    return store.read(tx -> tx.async().config(account, ref.name(), qualifier))
        .orElseThrow(() -> missing(account, ref.name(), qualifier));
  }

  public void delete(String account, FunctionRef ref) {
    var qualifier = existingQualifier(account, ref);
    boolean deleted = store.write(tx -> tx.async().deleteConfig(account, ref.name(), qualifier));
    if (!deleted) {
      throw missing(account, ref.name(), qualifier);
    }
  }

  /** ListFunctionEventInvokeConfigs: every qualifier's configuration, {@code maxItems} (1 to 50) at a time. */
  public Page<EventInvokeConfig> list(String account, FunctionRef ref, String marker, Integer maxItems) {
    int limit = maxItems == null ? MAX_LIST_ITEMS : maxItems;
    range("maxItems", limit, 1, MAX_LIST_ITEMS);
    control.getConfiguration(account, new FunctionRef(ref.account(), ref.name(), Optional.empty()));
    var configs = store.read(tx -> tx.async().configs(account, ref.name(), marker, limit + 1));
    String next = configs.size() > limit ? configs.get(limit - 1).qualifier() : null;
    return new Page<>(configs.subList(0, Math.min(limit, configs.size())), next);
  }

  /**
   * The configuration that governs events sent to {@code functionName} with {@code qualifier}
   * (null: the unqualified function, configured as $LATEST), or Lambda's defaults when it has none.
   */
  public EventInvokeConfig effective(String account, String functionName, String qualifier) {
    var key = qualifier == null ? FunctionVersion.LATEST : qualifier;
    return store.read(tx -> tx.async().config(account, functionName, key)).orElse(EventInvokeConfig.defaults(key));
  }

  /** The configuration's FunctionArn: always qualified, $LATEST for the unqualified function. */
  public String functionArn(String account, String functionName, EventInvokeConfig config) {
    return control.arn(account, functionName, config.qualifier());
  }

  // ---- validation

  private void check(String account, Change change) {
    if (change.maximumRetryAttempts() != null) {
      range("maximumRetryAttempts", change.maximumRetryAttempts(), 0, MAX_RETRY_ATTEMPTS);
    }
    if (change.maximumEventAgeSeconds() != null) {
      range("maximumEventAgeInSeconds", change.maximumEventAgeSeconds(),
          EventInvokeConfig.MIN_MAXIMUM_EVENT_AGE_SECONDS, MAX_EVENT_AGE_SECONDS);
    }
    checkDestination(account, "destinationConfig.onSuccess.destination", change.onSuccess());
    checkDestination(account, "destinationConfig.onFailure.destination", change.onFailure());
  }

  /** Kiln delivers to its own functions (same account and region) and, with a queue endpoint, to SQS queues. */
  private void checkDestination(String account, String member, String arn) {
    if (arn == null || arn.isEmpty()) {
      return;
    }
    var matcher = DESTINATION.matcher(arn);
    if (arn.length() > MAX_DESTINATION_LENGTH || !matcher.matches()) {
      throw invalid("1 validation error detected: Value '" + arn + "' at '" + member + "' failed to satisfy "
          + "constraint: Member must satisfy regular expression pattern: " + DESTINATION_PATTERN);
    }
    switch (matcher.group(2)) {
      case "lambda" -> {
        FunctionRef target;
        try {
          target = FunctionRef.parse(arn, null);
        } catch (KilnException e) {
          throw invalid("The destination " + arn + " is not a Lambda function ARN "
              + "(arn:aws:lambda:region:account:function:name[:qualifier]).");
        }
        if (!arn.startsWith("arn:") || !target.account().orElse("").equals(account)
            || !arn.split(":")[3].equals(control.region().name())) {
          throw invalid("The destination function " + arn + " must be in this account (" + account + ") and region ("
              + control.region().name() + ").");
        }
      }
      case "sqs" -> {
        if (!SqsArns.isQueue(arn)) {
          throw invalid("The destination " + arn + " is not an SQS queue ARN (arn:aws:sqs:region:account:name).");
        }
        if (!queuesConfigured) {
          throw invalid("This Kiln node has no queue endpoint configured, so it cannot deliver to the SQS queue " + arn
              + ". Configure a queue endpoint for the node or use a Lambda function as the destination.");
        }
      }
      default -> throw invalid("Kiln cannot deliver to " + matcher.group(2) + " destinations (" + arn
          + "). Use a Lambda function ARN or an SQS queue ARN.");
    }
  }

  private static void range(String member, int value, int min, int max) {
    if (value < min) {
      throw invalid("1 validation error detected: Value '" + value + "' at '" + member
          + "' failed to satisfy constraint: Member must have value greater than or equal to " + min);
    }
    if (value > max) {
      throw invalid("1 validation error detected: Value '" + value + "' at '" + member
          + "' failed to satisfy constraint: Member must have value less than or equal to " + max);
    }
  }

  // ---- internals

  /** The qualifier the configuration is stored under, once the function and the qualifier are known to exist. */
  private String existingQualifier(String account, FunctionRef ref) {
    control.getConfiguration(account, ref);
    return ref.qualifierOr(FunctionVersion.LATEST);
  }

  private void lockFunction(StoreTransaction tx, String account, FunctionRef ref) {
    if (tx.function(account, ref.name()).isEmpty()) {
      throw notFound("Function not found: " + control.arn(account, ref.name(), ref.qualifier().orElse(null)));
    }
  }

  private KilnException missing(String account, String functionName, String qualifier) {
    return notFound("The function " + control.arn(account, functionName, qualifier) + " has no EventInvokeConfig. "
        + "Create one with PutFunctionEventInvokeConfig.");
  }

  private static <T> T pick(T change, T current) {
    return change != null ? change : current;
  }
}
