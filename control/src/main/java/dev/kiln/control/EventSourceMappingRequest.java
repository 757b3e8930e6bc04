package dev.kiln.control;

import java.util.List;

/**
 * The members of a Create- or UpdateEventSourceMapping request, as given: null where the caller
 * left a member out. Update reads only the members Lambda lets it change.
 *
 * @param kafkaBootstrapServers SelfManagedEventSource.Endpoints.KAFKA_BOOTSTRAP_SERVERS
 * @param filterPatterns FilterCriteria.Filters[].Pattern; an empty list clears the criteria
 * @param consumerGroupId SelfManagedKafkaEventSourceConfig.ConsumerGroupId
 * @param maximumConcurrency ScalingConfig.MaximumConcurrency
 */
public record EventSourceMappingRequest(
    String functionName,
    String eventSourceArn,
    List<String> kafkaBootstrapServers,
    List<String> topics,
    List<String> queues,
    Integer batchSize,
    Integer maximumBatchingWindowInSeconds,
    List<String> functionResponseTypes,
    String startingPosition,
    List<String> filterPatterns,
    String consumerGroupId,
    Integer maximumConcurrency,
    Boolean enabled) {}
