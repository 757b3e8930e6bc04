package dev.kiln.core;

import java.time.Instant;
import java.util.List;

/**
 * One event-source mapping: which source a poller reads, which function it invokes with what it
 * read, and how it batches and filters. The source is either an SQS-compatible queue
 * ({@code eventSourceArn} is its ARN) or a self-managed Kafka topic ({@code kafkaBootstrapServers}
 * and {@code topics}); {@link #source()} tells them apart.
 *
 * @param qualifier the version or alias the mapping invokes, or null for the unqualified function
 * @param startingPosition TRIM_HORIZON or LATEST for Kafka, null for SQS
 * @param filterPatterns the FilterCriteria patterns as the caller wrote them (JSON text); a record
 *     passes when any of them matches
 * @param consumerGroupId the Kafka consumer group the caller chose, or null to use the UUID
 * @param maximumConcurrency ScalingConfig.MaximumConcurrency of an SQS mapping, or null for no cap
 *     below the function's own concurrency
 * @param lastModified when the mapping's settings last changed through the API
 * @param lastProcessingResult what the last batch came to, as Lambda reports it ("OK", "PROBLEM: ...")
 */
public record EventSourceMapping(
    String uuid,
    String account,
    String functionName,
    String qualifier,
    String eventSourceArn,
    List<String> kafkaBootstrapServers,
    List<String> topics,
    List<String> queues,
    int batchSize,
    int maximumBatchingWindowInSeconds,
    List<String> functionResponseTypes,
    String startingPosition,
    List<String> filterPatterns,
    String consumerGroupId,
    Integer maximumConcurrency,
    boolean enabled,
    EventSourceMappingState state,
    String stateTransitionReason,
    Instant lastModified,
    String lastProcessingResult) {

  public static final String REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures";

  public EventSourceMapping {
    kafkaBootstrapServers = kafkaBootstrapServers == null ? List.of() : List.copyOf(kafkaBootstrapServers);
    topics = topics == null ? List.of() : List.copyOf(topics);
    queues = queues == null ? List.of() : List.copyOf(queues);
    functionResponseTypes = functionResponseTypes == null ? List.of() : List.copyOf(functionResponseTypes);
    filterPatterns = filterPatterns == null ? List.of() : List.copyOf(filterPatterns);
  }

  /** The closed set of sources Kiln polls. */
  public sealed interface Source {
    /** An SQS-compatible queue named by its ARN. */
    record Sqs(String queueArn) implements Source {}

    /** One topic of a self-managed Kafka cluster. */
    record Kafka(List<String> bootstrapServers, String topic) implements Source {}
  }

  public Source source() {
    return kafkaBootstrapServers.isEmpty()
        ? new Source.Sqs(eventSourceArn)
        : new Source.Kafka(kafkaBootstrapServers, topics.getFirst());
  }

  /**
   * What identifies the source for the one-mapping-per-function-and-source rule: the queue ARN, or
   * the topic with its cluster's servers in a fixed order.
   */
  public String sourceKey() {
    return switch (source()) {
      case Source.Sqs sqs -> sqs.queueArn();
      case Source.Kafka kafka ->
          "kafka:" + String.join(",", kafka.bootstrapServers().stream().sorted().toList()) + "/" + kafka.topic();
    };
  }

  /** The Kafka consumer group: the one the caller named, else the mapping's UUID as Lambda uses. */
  public String effectiveConsumerGroupId() {
    return consumerGroupId != null ? consumerGroupId : uuid;
  }

  public boolean reportsBatchItemFailures() {
    return functionResponseTypes.contains(REPORT_BATCH_ITEM_FAILURES);
  }

  public EventSourceMapping withState(EventSourceMappingState newState, String reason) {
    return new EventSourceMapping(uuid, account, functionName, qualifier, eventSourceArn, kafkaBootstrapServers,
        topics, queues, batchSize, maximumBatchingWindowInSeconds, functionResponseTypes, startingPosition,
        filterPatterns, consumerGroupId, maximumConcurrency, enabled, newState, reason, lastModified,
        lastProcessingResult);
  }

  public EventSourceMapping withLastProcessingResult(String result) {
    return new EventSourceMapping(uuid, account, functionName, qualifier, eventSourceArn, kafkaBootstrapServers,
        topics, queues, batchSize, maximumBatchingWindowInSeconds, functionResponseTypes, startingPosition,
        filterPatterns, consumerGroupId, maximumConcurrency, enabled, state, stateTransitionReason, lastModified,
        result);
  }

  /**
   * The settings a poller runs with: this mapping without its state, reason, modification time and
   * last result, so two mappings with equal settings need no poller restart between them.
   */
  public EventSourceMapping pollerSettings() {
    return new EventSourceMapping(uuid, account, functionName, qualifier, eventSourceArn, kafkaBootstrapServers,
        topics, queues, batchSize, maximumBatchingWindowInSeconds, functionResponseTypes, startingPosition,
        filterPatterns, consumerGroupId, maximumConcurrency, enabled, null, null, null, null);
  }
}
