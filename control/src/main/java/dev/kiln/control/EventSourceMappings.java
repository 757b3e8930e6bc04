package dev.kiln.control;

import static dev.kiln.core.KilnException.conflict;
import static dev.kiln.core.KilnException.invalid;
import static dev.kiln.core.KilnException.notFound;

import dev.kiln.core.EventSourceMapping;
import dev.kiln.core.EventSourceMappingState;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.store.DuplicateKeyException;
import dev.kiln.store.MetadataStore;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Lambda's event-source mapping operations (Create/Get/Update/Delete/ListEventSourceMappings) and
 * the few state changes the pollers make. A change through the API leaves the mapping in a
 * transitional state (Creating, Enabling, Disabling, Updating, Deleting); the poller manager reads
 * every mapping, makes its pollers match, and then {@link #settle settles} the state, so a mapping
 * and its pollers agree again after a restart too.
 */
public final class EventSourceMappings {
  public static final String USER_INITIATED = "USER_INITIATED";
  public static final String NO_RECORDS_PROCESSED = "No records processed";
  static final int MAX_BATCH_SIZE = 10_000;
  static final int SQS_DEFAULT_BATCH_SIZE = 10;
  static final int KAFKA_DEFAULT_BATCH_SIZE = 100;
  /** Above this, an SQS batch needs a batching window (one receive returns at most 10 messages). */
  static final int SQS_BATCH_WITHOUT_WINDOW = 10;
  static final int MAX_BATCHING_WINDOW_SECONDS = 300;
  static final int MAX_PAGE = 100;

  private static final Pattern SQS_ARN =
      Pattern.compile("arn:aws[a-zA-Z-]*:sqs:[a-z]{2}(?:-gov)?-[a-z]+-\\d:\\d{12}:[A-Za-z0-9_-]{1,80}(?:\\.fifo)?");
  private static final Pattern ANY_ARN = Pattern.compile("arn:aws[a-zA-Z0-9-]*:([a-zA-Z0-9-]+):.*");
  private static final Pattern BOOTSTRAP_SERVER = Pattern.compile(
      "(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]):[0-9]{1,5}");
  private static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
  private static final Pattern CONSUMER_GROUP = Pattern.compile("[a-zA-Z0-9-/*:_+=.@]{1,200}");
  private static final List<String> STARTING_POSITIONS = List.of("TRIM_HORIZON", "LATEST");

  private final MetadataStore store;
  private final ControlPlane control;
  private final Clock clock;

  public EventSourceMappings(MetadataStore store, ControlPlane control, Clock clock) {
    this.store = store;
    this.control = control;
    this.clock = clock;
  }

  // ---- the API ----------------------------------------------------------------------------

  public EventSourceMapping create(String account, EventSourceMappingRequest request) {
    var target = target(account, request.functionName());
    boolean kafka = request.kafkaBootstrapServers() != null;
    if (kafka == (request.eventSourceArn() != null)) {
      throw invalid(kafka
          ? "Specify either EventSourceArn or SelfManagedEventSource, not both."
          : "Specify the event source: EventSourceArn for an SQS queue, or SelfManagedEventSource with "
              + "KAFKA_BOOTSTRAP_SERVERS and Topics for a Kafka cluster.");
    }
    if (request.queues() != null) {
      throw invalid("Queues is for Amazon MQ brokers, which Kiln does not poll. Use EventSourceArn for an SQS queue.");
    }
    var mapping = kafka ? kafkaMapping(account, target, request) : sqsMapping(account, target, request);
    return store.write(tx -> {
      if (tx.function(account, target.name()).isEmpty()) {
        throw functionNotFound(account, target);
      }
      try {
        tx.eventSourceMappings().insert(mapping);
      } catch (DuplicateKeyException e) {
        var existing = tx.eventSourceMappings()
            .mappings(account, mapping.functionName(), qualifierKey(mapping), null, null, Integer.MAX_VALUE)
            .stream().filter(m -> m.sourceKey().equals(mapping.sourceKey())).findFirst();
        throw conflict("An event source mapping with event source (" + describeSource(mapping) + ") and function ("
            + mapping.functionName() + ") already exists. Please update or delete the existing mapping with UUID "
            + existing.map(EventSourceMapping::uuid).orElse("(unknown)"));
      }
      return mapping;
    });
  }

  public EventSourceMapping get(String account, String uuid) {
    return store.read(tx -> tx.eventSourceMappings().mapping(account, uuid)).orElseThrow(EventSourceMappings::missing);
  }

  public EventSourceMapping update(String account, String uuid, EventSourceMappingRequest request) {
    var target = request.functionName() == null ? null : target(account, request.functionName());
    return store.write(tx -> {
      var current = tx.eventSourceMappings().mapping(account, uuid).orElseThrow(EventSourceMappings::missing);
      if (current.state() == EventSourceMappingState.Deleting) {
        throw conflict("The event source mapping " + uuid + " is being deleted and cannot be updated. Create a new "
            + "one instead.");
      }
      String functionName = current.functionName();
      String qualifier = current.qualifier();
      if (target != null) {
        if (tx.function(account, target.name()).isEmpty()) {
          throw functionNotFound(account, target);
        }
        functionName = target.name();
        qualifier = target.qualifier().orElse(null);
      }
      boolean kafka = current.source() instanceof EventSourceMapping.Source.Kafka;
      int batchSize = request.batchSize() != null ? request.batchSize() : current.batchSize();
      int window = request.maximumBatchingWindowInSeconds() != null
          ? request.maximumBatchingWindowInSeconds() : current.maximumBatchingWindowInSeconds();
      var responseTypes = request.functionResponseTypes() != null
          ? request.functionResponseTypes() : current.functionResponseTypes();
      var filters = request.filterPatterns() != null ? request.filterPatterns() : current.filterPatterns();
      var concurrency = request.maximumConcurrency() != null ? request.maximumConcurrency()
          : current.maximumConcurrency();
      checkBatching(kafka, batchSize, window);
      checkResponseTypes(kafka, responseTypes);
      checkConcurrency(kafka, concurrency);
      FilterCriteria.of(filters);
      boolean enabled = request.enabled() != null ? request.enabled() : current.enabled();
      var state = enabled && !current.enabled() ? EventSourceMappingState.Enabling
          : !enabled && current.enabled() ? EventSourceMappingState.Disabling
          : EventSourceMappingState.Updating;
      var updated = new EventSourceMapping(uuid, account, functionName, qualifier, current.eventSourceArn(),
          current.kafkaBootstrapServers(), current.topics(), current.queues(), batchSize, window, responseTypes,
          current.startingPosition(), filters, current.consumerGroupId(), concurrency, enabled, state,
          USER_INITIATED, now(), current.lastProcessingResult());
      try {
        tx.eventSourceMappings().update(updated);
      } catch (DuplicateKeyException e) {
        throw conflict("Function " + functionName + " already has an event source mapping of ("
            + describeSource(updated) + "). Update or delete that mapping instead.");
      }
      return updated;
    });
  }

  /** Marks the mapping Deleting and returns it so; the poller manager stops its pollers and removes it. */
  public EventSourceMapping delete(String account, String uuid) {
    return store.write(tx -> {
      var current = tx.eventSourceMappings().mapping(account, uuid).orElseThrow(EventSourceMappings::missing);
      var deleting = current.withState(EventSourceMappingState.Deleting, USER_INITIATED);
      tx.eventSourceMappings().update(deleting);
      return deleting;
    });
  }

  /**
   * ListEventSourceMappings: the account's mappings in UUID order, only those of the function (any
   * of its qualifiers unless the name carries one) and of the event source when given.
   */
  public Page<EventSourceMapping> list(
      String account, String functionName, String eventSourceArn, String marker, Integer maxItems) {
    int limit = pageSize(maxItems);
    FunctionRef ref = functionName == null ? null : FunctionRef.parse(functionName, null);
    if (ref != null && ref.account().isPresent() && !ref.account().get().equals(account)) {
      return new Page<>(List.of(), null);
    }
    var found = store.read(tx -> tx.eventSourceMappings().mappings(account, ref == null ? null : ref.name(),
        ref == null ? null : ref.qualifier().orElse(null), eventSourceArn, marker, limit + 1));
    var items = found.subList(0, Math.min(limit, found.size()));
    return new Page<>(items, found.size() > limit ? items.getLast().uuid() : null);
  }

  /** The ARN of the function (with its qualifier) a mapping invokes. */
  public String functionArn(EventSourceMapping mapping) {
    return control.arn(mapping.account(), mapping.functionName(), mapping.qualifier());
  }

  // ---- what the pollers change ------------------------------------------------------------

  /** Every mapping of every account. */
  public List<EventSourceMapping> all() {
    return store.read(tx -> tx.eventSourceMappings().all());
  }

  /**
   * Moves a mapping the manager has acted on to {@code state}, unless it changed since the manager
   * read it (then the manager acts again on the newer version). Returns the settled mapping.
   */
  public Optional<EventSourceMapping> settle(EventSourceMapping seen, EventSourceMappingState state) {
    return store.write(tx -> {
      var current = tx.eventSourceMappings().mapping(seen.account(), seen.uuid());
      if (current.isEmpty() || !unchanged(current.get(), seen)) {
        return Optional.<EventSourceMapping>empty();
      }
      var settled = current.get().withState(state, current.get().stateTransitionReason());
      tx.eventSourceMappings().update(settled);
      return Optional.of(settled);
    });
  }

  /** Removes a Deleting mapping once its pollers have stopped. */
  public void finishDeletion(EventSourceMapping seen) {
    store.write(tx -> {
      var current = tx.eventSourceMappings().mapping(seen.account(), seen.uuid());
      if (current.isPresent() && current.get().state() == EventSourceMappingState.Deleting) {
        tx.eventSourceMappings().delete(seen.account(), seen.uuid());
      }
      return null;
    });
  }

  /** Keeps what the last batch came to, for LastProcessingResult; written only when it changes. */
  public void recordResult(EventSourceMapping seen, String result) {
    store.write(tx -> {
      var current = tx.eventSourceMappings().mapping(seen.account(), seen.uuid());
      if (current.isPresent() && !Objects.equals(current.get().lastProcessingResult(), result)) {
        tx.eventSourceMappings().update(current.get().withLastProcessingResult(result));
      }
      return null;
    });
  }

  private static boolean unchanged(EventSourceMapping current, EventSourceMapping seen) {
    return current.state() == seen.state() && current.pollerSettings().equals(seen.pollerSettings())
        && Objects.equals(current.lastModified(), seen.lastModified());
  }

  // ---- validation -------------------------------------------------------------------------

  private EventSourceMapping sqsMapping(String account, FunctionRef target, EventSourceMappingRequest request) {
    var arn = request.eventSourceArn();
    if (!SQS_ARN.matcher(arn).matches()) {
      var service = ANY_ARN.matcher(arn);
      if (service.matches()) {
        throw invalid("Kiln polls SQS-compatible queues and self-managed Kafka clusters; the " + service.group(1)
            + " event source " + arn + " is not supported. For Kafka, pass SelfManagedEventSource with "
            + "KAFKA_BOOTSTRAP_SERVERS and Topics instead of an ARN.");
      }
      throw invalid("1 validation error detected: Value '" + arn + "' at 'eventSourceArn' failed to satisfy "
          + "constraint: Member must be an SQS queue ARN such as arn:aws:sqs:us-east-1:123456789012:my-queue");
    }
    if (request.startingPosition() != null) {
      throw invalid("StartingPosition is not valid for SQS event sources: remove it.");
    }
    if (request.topics() != null) {
      throw invalid("Topics is only valid for Kafka event sources: remove it.");
    }
    if (request.consumerGroupId() != null) {
      throw invalid("ConsumerGroupId is only valid for Kafka event sources: remove it.");
    }
    int batchSize = request.batchSize() != null ? request.batchSize() : SQS_DEFAULT_BATCH_SIZE;
    int window = request.maximumBatchingWindowInSeconds() != null ? request.maximumBatchingWindowInSeconds() : 0;
    checkBatching(false, batchSize, window);
    var responseTypes = request.functionResponseTypes() == null ? List.<String>of() : request.functionResponseTypes();
    checkResponseTypes(false, responseTypes);
    checkConcurrency(false, request.maximumConcurrency());
    var filters = request.filterPatterns() == null ? List.<String>of() : request.filterPatterns();
    FilterCriteria.of(filters);
    return new EventSourceMapping(UUID.randomUUID().toString(), account, target.name(),
        target.qualifier().orElse(null), arn, null, null, null, batchSize, window, responseTypes, null, filters, null,
        request.maximumConcurrency(), enabled(request), EventSourceMappingState.Creating, USER_INITIATED, now(),
        NO_RECORDS_PROCESSED);
  }

  private EventSourceMapping kafkaMapping(String account, FunctionRef target, EventSourceMappingRequest request) {
    var servers = request.kafkaBootstrapServers();
    if (servers.isEmpty() || servers.size() > 10) {
      throw invalid("SelfManagedEventSource.Endpoints.KAFKA_BOOTSTRAP_SERVERS must list 1 to 10 brokers as "
          + "host:port.");
    }
    for (var server : servers) {
      if (server == null || server.length() > 300 || !BOOTSTRAP_SERVER.matcher(server).matches()) {
        throw invalid("Invalid Kafka bootstrap server '" + server + "': give each broker as host:port, e.g. "
            + "kafka-1.example.com:9092.");
      }
    }
    var topics = request.topics();
    if (topics == null || topics.size() != 1) {
      throw invalid("A Kafka event source needs exactly one topic in Topics.");
    }
    var topic = topics.getFirst();
    if (topic == null || !TOPIC.matcher(topic).matches() || topic.equals(".") || topic.equals("..")) {
      throw invalid("Invalid Kafka topic name '" + topic + "': use 1 to 249 letters, digits, '.', '_' or '-'.");
    }
    var position = request.startingPosition();
    if (position == null) {
      throw invalid("StartingPosition is required for a Kafka event source: TRIM_HORIZON (from the oldest "
          + "record) or LATEST (only records that arrive from now on).");
    }
    if (!STARTING_POSITIONS.contains(position)) {
      throw invalid("StartingPosition " + position + " is not supported by Kiln for Kafka: use TRIM_HORIZON or "
          + "LATEST.");
    }
    var group = request.consumerGroupId();
    if (group != null && !CONSUMER_GROUP.matcher(group).matches()) {
      throw invalid("1 validation error detected: Value '" + group + "' at 'consumerGroupId' failed to satisfy "
          + "constraint: Member must be 1 to 200 of the characters a-z A-Z 0-9 - / * : _ + = . @");
    }
    int batchSize = request.batchSize() != null ? request.batchSize() : KAFKA_DEFAULT_BATCH_SIZE;
    int window = request.maximumBatchingWindowInSeconds() != null ? request.maximumBatchingWindowInSeconds() : 0;
    checkBatching(true, batchSize, window);
    checkResponseTypes(true, request.functionResponseTypes() == null ? List.of() : request.functionResponseTypes());
    checkConcurrency(true, request.maximumConcurrency());
    var filters = request.filterPatterns() == null ? List.<String>of() : request.filterPatterns();
    FilterCriteria.of(filters);
    return new EventSourceMapping(UUID.randomUUID().toString(), account, target.name(),
        target.qualifier().orElse(null), null, servers, topics, null, batchSize, window, null, position, filters,
        group, null, enabled(request), EventSourceMappingState.Creating, USER_INITIATED, now(),
        NO_RECORDS_PROCESSED);
  }

  private static void checkBatching(boolean kafka, int batchSize, int window) {
    if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw invalid("1 validation error detected: Value '" + batchSize + "' at 'batchSize' failed to satisfy "
          + "constraint: Member must have value between 1 and " + MAX_BATCH_SIZE);
    }
    if (window < 0 || window > MAX_BATCHING_WINDOW_SECONDS) {
      throw invalid("1 validation error detected: Value '" + window + "' at 'maximumBatchingWindowInSeconds' failed "
          + "to satisfy constraint: Member must have value between 0 and " + MAX_BATCHING_WINDOW_SECONDS);
    }
    if (!kafka && batchSize > SQS_BATCH_WITHOUT_WINDOW && window < 1) {
      throw invalid("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than "
          + SQS_BATCH_WITHOUT_WINDOW + ". Set MaximumBatchingWindowInSeconds to at least 1.");
    }
  }

  private static void checkResponseTypes(boolean kafka, List<String> types) {
    if (types.isEmpty()) {
      return;
    }
    if (kafka) {
      throw invalid("FunctionResponseTypes is not supported for Kafka event sources: a failed batch is retried "
          + "whole, so remove it.");
    }
    if (types.size() > 1 || !types.getFirst().equals(EventSourceMapping.REPORT_BATCH_ITEM_FAILURES)) {
      throw invalid("1 validation error detected: Value '" + types + "' at 'functionResponseTypes' failed to "
          + "satisfy constraint: Member must satisfy enum value set: [ReportBatchItemFailures]");
    }
  }

  private static void checkConcurrency(boolean kafka, Integer maximumConcurrency) {
    if (maximumConcurrency == null) {
      return;
    }
    if (kafka) {
      throw invalid("ScalingConfig is only valid for SQS event sources: Kafka pollers run one batch per partition.");
    }
    if (maximumConcurrency < 2 || maximumConcurrency > 1000) {
      throw invalid("1 validation error detected: Value '" + maximumConcurrency + "' at "
          + "'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value between 2 and "
          + "1000");
    }
  }

  private FunctionRef target(String account, String functionName) {
    if (functionName == null) {
      throw invalid("1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member "
          + "must not be null");
    }
    var ref = FunctionRef.parse(functionName, null);
    // Throws ResourceNotFoundException for a missing function, version or alias, and refuses other accounts.
    control.getConfiguration(account, ref);
    return ref;
  }

  private KilnException functionNotFound(String account, FunctionRef ref) {
    return notFound("Function not found: " + control.arn(account, ref.name(), ref.qualifier().orElse(null)));
  }

  private static KilnException missing() {
    return notFound("The resource you requested does not exist. Check the UUID with ListEventSourceMappings.");
  }

  private static String describeSource(EventSourceMapping mapping) {
    return switch (mapping.source()) {
      case EventSourceMapping.Source.Sqs sqs -> sqs.queueArn();
      case EventSourceMapping.Source.Kafka kafka ->
          "Kafka topic " + kafka.topic() + " at " + String.join(",", kafka.bootstrapServers());
    };
  }

  private static String qualifierKey(EventSourceMapping mapping) {
    return mapping.qualifier() == null ? "" : mapping.qualifier();
  }

  private static boolean enabled(EventSourceMappingRequest request) {
    return request.enabled() == null || request.enabled();
  }

  private static int pageSize(Integer maxItems) {
    if (maxItems == null) {
      return MAX_PAGE;
    }
    if (maxItems < 1 || maxItems > 10_000) {
      throw invalid("1 validation error detected: Value '" + maxItems
          + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000");
    }
    return Math.min(maxItems, MAX_PAGE);
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }
}
