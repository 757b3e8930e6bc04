package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.api.json.JsonBody;
import dev.kiln.control.EventInvokeConfigs;
import dev.kiln.core.EventInvokeConfig;
import dev.kiln.core.FunctionRef;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Put, Get, Update, Delete and ListFunctionEventInvokeConfigs: how asynchronous invocations of a
 * function, version or alias are retried, how old they may get, and where their records go.
 */
final class EventInvokeConfigRoutes {
  private static final String CONFIG = "/2019-09-25/functions/{FunctionName}/event-invoke-config";

  private final EventInvokeConfigs configs;

  EventInvokeConfigRoutes(EventInvokeConfigs configs) {
    this.configs = configs;
  }

  void register(Router router) {
    router
        .add("PUT", CONFIG, this::put)
        .add("POST", CONFIG, this::update)
        .add("GET", CONFIG, this::get)
        .add("DELETE", CONFIG, this::delete)
        .add("GET", CONFIG + "/list", this::list);
  }

  private ApiReply put(ApiCall call) {
    var ref = ref(call);
    return ApiReply.ok(shape(call.account(), ref.name(), configs.put(call.account(), ref, change(call.json()))));
  }

  private ApiReply update(ApiCall call) {
    var ref = ref(call);
    return ApiReply.ok(shape(call.account(), ref.name(), configs.update(call.account(), ref, change(call.json()))));
  }

  private ApiReply get(ApiCall call) {
    var ref = ref(call);
    return ApiReply.ok(shape(call.account(), ref.name(), configs.get(call.account(), ref)));
  }

  private ApiReply delete(ApiCall call) {
    configs.delete(call.account(), ref(call));
    return ApiReply.noContent();
  }

  private ApiReply list(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    var page = configs.list(call.account(), ref, call.queryParam("Marker").orElse(null),
        call.intQueryParam("MaxItems"));
    var items = page.items().stream().map(c -> shape(call.account(), ref.name(), c)).toList();
    return ApiReply.ok(LambdaShapes.page("FunctionEventInvokeConfigs", items, page.nextMarker()));
  }

  private static FunctionRef ref(ApiCall call) {
    return FunctionRef.parse(call.path("FunctionName"), call.queryParam("Qualifier").orElse(null));
  }

  /** A destination member that is present but empty ({@code "OnSuccess": {}}) removes that destination. */
  private static EventInvokeConfigs.Change change(JsonBody body) {
    var destinations = body.object("DestinationConfig");
    String onSuccess = null;
    String onFailure = null;
    if (destinations != null) {
      onSuccess = destination(destinations.object("OnSuccess"));
      onFailure = destination(destinations.object("OnFailure"));
    }
    return new EventInvokeConfigs.Change(body.integer("MaximumRetryAttempts"), body.integer("MaximumEventAgeInSeconds"),
        onSuccess, onFailure);
  }

  private static String destination(JsonBody target) {
    if (target == null) {
      return null;
    }
    var arn = target.string("Destination");
    return arn == null ? "" : arn;
  }

  /** FunctionEventInvokeConfig as Lambda returns it; LastModified in epoch seconds. */
  private Map<String, Object> shape(String account, String functionName, EventInvokeConfig config) {
    var doc = new LinkedHashMap<String, Object>();
    doc.put("LastModified", config.lastModified().toEpochMilli() / 1000.0);
    doc.put("FunctionArn", configs.functionArn(account, functionName, config));
    if (config.maximumRetryAttempts() != null) {
      doc.put("MaximumRetryAttempts", config.maximumRetryAttempts());
    }
    if (config.maximumEventAgeSeconds() != null) {
      doc.put("MaximumEventAgeInSeconds", config.maximumEventAgeSeconds());
    }
    doc.put("DestinationConfig", Map.of(
        "OnSuccess", target(config.onSuccess()),
        "OnFailure", target(config.onFailure())));
    return doc;
  }

  private static Map<String, String> target(String arn) {
    return arn == null ? Map.of() : Map.of("Destination", arn);
  }
}
