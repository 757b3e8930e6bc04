package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.api.json.Json;
import dev.kiln.api.json.JsonBody;
import dev.kiln.control.EventSourceMappingRequest;
import dev.kiln.control.EventSourceMappings;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.EventSourceMapping;
import dev.kiln.core.KilnException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Create/Get/Update/Delete/ListEventSourceMappings on Lambda's paths. Every accepted change is
 * reported to {@code onChange} so the pollers follow it at once rather than at their next check.
 */
final class EventSourceMappingRoutes {
  private static final String MAPPINGS = "/2015-03-31/event-source-mappings";
  /** Lambda members Kiln's pollers do not implement; refused rather than silently ignored. */
  private static final List<String> UNSUPPORTED = List.of("DestinationConfig", "ParallelizationFactor",
      "StartingPositionTimestamp", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
      "TumblingWindowInSeconds", "SourceAccessConfigurations", "AmazonManagedKafkaEventSourceConfig",
      "DocumentDBEventSourceConfig", "KMSKeyArn", "MetricsConfig", "ProvisionedPollerConfig");

  private final EventSourceMappings mappings;
  private final Runnable onChange;

  EventSourceMappingRoutes(EventSourceMappings mappings, Runnable onChange) {
    this.mappings = mappings;
    this.onChange = onChange;
  }

  void register(Router router) {
    router
        .add("POST", MAPPINGS, this::create)
        .add("GET", MAPPINGS, this::list)
        .add("GET", MAPPINGS + "/{UUID}", this::get)
        .add("PUT", MAPPINGS + "/{UUID}", this::update)
        .add("DELETE", MAPPINGS + "/{UUID}", this::delete);
  }

  private ApiReply create(ApiCall call) {
    var body = call.json();
    refuseUnsupported(body);
    var selfManaged = body.object("SelfManagedEventSource");
    List<String> servers = null;
    if (selfManaged != null) {
      var endpoints = selfManaged.object("Endpoints");
      servers = endpoints == null ? null : endpoints.stringList("KAFKA_BOOTSTRAP_SERVERS");
      if (servers == null) {
        throw KilnException.invalid("SelfManagedEventSource needs Endpoints with KAFKA_BOOTSTRAP_SERVERS, e.g. "
            + "{\"Endpoints\":{\"KAFKA_BOOTSTRAP_SERVERS\":[\"broker-1:9092\"]}}.");
      }
    }
    var kafkaConfig = body.object("SelfManagedKafkaEventSourceConfig");
    var request = new EventSourceMappingRequest(body.string("FunctionName"), body.string("EventSourceArn"), servers,
        body.stringList("Topics"), body.stringList("Queues"), body.integer("BatchSize"),
        body.integer("MaximumBatchingWindowInSeconds"), body.stringList("FunctionResponseTypes"),
        body.string("StartingPosition"), filterPatterns(call), kafkaConfig == null ? null
            : kafkaConfig.string("ConsumerGroupId"), maximumConcurrency(body), body.bool("Enabled"));
    var created = mappings.create(call.account(), request);
    onChange.run();
    return ApiReply.json(202, shape(created));
  }

  private ApiReply get(ApiCall call) {
    return ApiReply.ok(shape(mappings.get(call.account(), call.path("UUID"))));
  }

  private ApiReply update(ApiCall call) {
    var body = call.json();
    refuseUnsupported(body);
    var request = new EventSourceMappingRequest(body.string("FunctionName"), null, null, null, null,
        body.integer("BatchSize"), body.integer("MaximumBatchingWindowInSeconds"),
        body.stringList("FunctionResponseTypes"), null, filterPatterns(call), null, maximumConcurrency(body),
        body.bool("Enabled"));
    var updated = mappings.update(call.account(), call.path("UUID"), request);
    onChange.run();
    return ApiReply.json(202, shape(updated));
  }

  private ApiReply delete(ApiCall call) {
    var deleting = mappings.delete(call.account(), call.path("UUID"));
    onChange.run();
    return ApiReply.json(202, shape(deleting));
  }

  private ApiReply list(ApiCall call) {
    var page = mappings.list(call.account(), call.queryParam("FunctionName").orElse(null),
        call.queryParam("EventSourceArn").orElse(null), call.queryParam("Marker").orElse(null),
        call.intQueryParam("MaxItems"));
    var doc = new LinkedHashMap<String, Object>();
    if (page.nextMarker() != null) {
      doc.put("NextMarker", page.nextMarker());
    }
    doc.put("EventSourceMappings", page.items().stream().map(this::shape).toList());
    return ApiReply.ok(doc);
  }

  private static void refuseUnsupported(JsonBody body) {
    for (var member : UNSUPPORTED) {
      if (body.has(member)) {
        throw KilnException.invalid(member + " is not supported by Kiln's event-source pollers; remove it from the "
            + "request.");
      }
    }
  }

  private static Integer maximumConcurrency(JsonBody body) {
    var scaling = body.object("ScalingConfig");
    return scaling == null ? null : scaling.integer("MaximumConcurrency");
  }

  /**
   * FilterCriteria.Filters[].Pattern, or null when the request has no FilterCriteria. Read from the
   * raw document because the filters are a list of objects.
   */
  private static List<String> filterPatterns(ApiCall call) {
    if (call.body().length == 0) {
      return null;
    }
    JsonNode criteria = Json.MAPPER.readTree(call.body()).get("FilterCriteria");
    if (criteria == null || criteria.isNull()) {
      return null;
    }
    if (!criteria.isObject()) {
      throw badContent("FilterCriteria must be an object");
    }
    var filters = criteria.get("Filters");
    var patterns = new ArrayList<String>();
    if (filters == null || filters.isNull()) {
      return patterns;
    }
    if (!filters.isArray()) {
      throw badContent("FilterCriteria.Filters must be a list");
    }
    for (var filter : filters) {
      var pattern = filter.isObject() ? filter.get("Pattern") : null;
      if (pattern == null || !pattern.isString()) {
        throw badContent("each of FilterCriteria.Filters must be an object with a Pattern string");
      }
      patterns.add(pattern.asString());
    }
    return patterns;
  }

  private static KilnException badContent(String what) {
    return new KilnException(ErrorCode.InvalidRequestContentException,
        "Could not parse request body into json: " + what + ".");
  }

  /** EventSourceMappingConfiguration, member for member; LastModified in epoch seconds as Lambda sends it. */
  private Map<String, Object> shape(EventSourceMapping m) {
    var doc = new LinkedHashMap<String, Object>();
    doc.put("UUID", m.uuid());
    boolean kafka = m.source() instanceof EventSourceMapping.Source.Kafka;
    if (kafka) {
      doc.put("StartingPosition", m.startingPosition());
    }
    doc.put("BatchSize", m.batchSize());
    doc.put("MaximumBatchingWindowInSeconds", m.maximumBatchingWindowInSeconds());
    if (!kafka) {
      doc.put("EventSourceArn", m.eventSourceArn());
    }
    if (!m.filterPatterns().isEmpty()) {
      doc.put("FilterCriteria", Map.of("Filters", m.filterPatterns().stream().map(p -> Map.of("Pattern", p)).toList()));
    }
    doc.put("FunctionArn", mappings.functionArn(m));
    doc.put("LastModified", BigDecimal.valueOf(m.lastModified().toEpochMilli(), 3));
    if (m.lastProcessingResult() != null) {
      doc.put("LastProcessingResult", m.lastProcessingResult());
    }
    doc.put("State", m.state().name());
    doc.put("StateTransitionReason", m.stateTransitionReason());
    if (kafka) {
      doc.put("Topics", m.topics());
      doc.put("SelfManagedEventSource", Map.of("Endpoints", Map.of("KAFKA_BOOTSTRAP_SERVERS", m.kafkaBootstrapServers())));
      doc.put("SelfManagedKafkaEventSourceConfig", Map.of("ConsumerGroupId", m.effectiveConsumerGroupId()));
    } else {
      doc.put("FunctionResponseTypes", m.functionResponseTypes());
    }
    if (m.maximumConcurrency() != null) {
      doc.put("ScalingConfig", Map.of("MaximumConcurrency", m.maximumConcurrency()));
    }
    return doc;
  }
}
