package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.api.json.Json;
import dev.kiln.batch.BatchRunner;
import dev.kiln.control.BatchStatus;
import dev.kiln.control.Batches;
import dev.kiln.control.ControlPlane;
import dev.kiln.control.CreateBatchRequest;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import dev.kiln.core.batch.BatchFailure;
import dev.kiln.core.batch.BatchItem;
import dev.kiln.core.batch.BatchJobState;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Kiln's batch API: a job turns every item of a data set into one synchronous invocation of a
 * function, checkpointed in the store. Create it under an idempotency key (the same key finds the
 * same job again), upload its items in pages, start it, and watch its counts:
 *
 * <pre>
 * POST   /kiln/v1/batches                     {FunctionName, Qualifier?, IdempotencyKey?, TotalItems, Concurrency?, MaxAttempts?, Source?}
 * GET    /kiln/v1/batches?FunctionName=&amp;MaxItems=
 * GET    /kiln/v1/batches/{JobId}
 * DELETE /kiln/v1/batches/{JobId}
 * POST   /kiln/v1/batches/{JobId}/items       {Items: [{Index, Line? | Path?, Payload (base64)}]}
 * POST   /kiln/v1/batches/{JobId}/start       {Concurrency?}
 * POST   /kiln/v1/batches/{JobId}/pause
 * GET    /kiln/v1/batches/{JobId}/failures?Marker=&amp;MaxItems=
 * </pre>
 */
final class BatchRoutes {
  private static final String BATCHES = "/kiln/v1/batches";
  private static final String JOB = BATCHES + "/{JobId}";

  private final Batches batches;
  private final BatchRunner runner;
  private final ControlPlane control;

  BatchRoutes(Batches batches, BatchRunner runner, ControlPlane control) {
    this.batches = batches;
    this.runner = runner;
    this.control = control;
  }

  void register(Router router) {
    router
        .add("POST", BATCHES, this::create)
        .add("GET", BATCHES, this::list)
        .add("GET", JOB, this::status)
        .add("DELETE", JOB, this::delete)
        .add("POST", JOB + "/items", this::upload)
        .add("POST", JOB + "/start", this::start)
        .add("POST", JOB + "/pause", this::pause)
        .add("GET", JOB + "/failures", this::failures);
  }

  private ApiReply create(ApiCall call) {
    var body = call.json();
    if (body.string("FunctionName") == null) {
      throw KilnException.invalid("FunctionName is required: the function every item is invoked with.");
    }
    Long total = body.has("TotalItems") ? longMember(call, "TotalItems") : null;
    var request = new CreateBatchRequest(body.string("FunctionName"), body.string("Qualifier"),
        body.string("IdempotencyKey"), total, body.integer("Concurrency"), body.integer("MaxAttempts"),
        body.string("Source"));
    var created = batches.create(call.account(), request);
    return ApiReply.json(created.created() ? 201 : 200, shape(created.status()));
  }

  private ApiReply list(ApiCall call) {
    var jobs = batches.list(call.account(), call.queryParam("FunctionName").orElse(null),
        call.intQueryParam("MaxItems"));
    return ApiReply.ok(Map.of("Jobs", jobs.stream().map(this::shape).toList()));
  }

  private ApiReply status(ApiCall call) {
    return ApiReply.ok(shape(batches.status(call.account(), call.path("JobId"))));
  }

  private ApiReply delete(ApiCall call) {
    var jobId = call.path("JobId");
    runner.stop(call.account(), jobId);
    batches.delete(call.account(), jobId);
    return ApiReply.noContent();
  }

  private ApiReply upload(ApiCall call) {
    var status = batches.upload(call.account(), call.path("JobId"), items(call));
    return ApiReply.ok(shape(status));
  }

  private ApiReply start(ApiCall call) {
    var jobId = call.path("JobId");
    batches.start(call.account(), jobId, call.json().integer("Concurrency"));
    runner.wake(call.account(), jobId);
    return ApiReply.ok(shape(batches.status(call.account(), jobId)));
  }

  private ApiReply pause(ApiCall call) {
    var jobId = call.path("JobId");
    batches.pause(call.account(), jobId);
    runner.stop(call.account(), jobId);
    return ApiReply.ok(shape(batches.status(call.account(), jobId)));
  }

  private ApiReply failures(ApiCall call) {
    var page = batches.failures(call.account(), call.path("JobId"), call.queryParam("Marker").orElse(null),
        call.intQueryParam("MaxItems"));
    var doc = new LinkedHashMap<String, Object>();
    doc.put("Failures", page.items().stream().map(BatchRoutes::shape).toList());
    if (page.nextMarker() != null) {
      doc.put("NextMarker", page.nextMarker());
    }
    return ApiReply.ok(doc);
  }

  private Map<String, Object> shape(BatchStatus status) {
    var job = status.job();
    var counts = status.counts();
    var doc = new LinkedHashMap<String, Object>();
    doc.put("JobId", job.jobId());
    doc.put("FunctionName", job.functionName());
    doc.put("FunctionArn", control.arn(job.account(), job.functionName(), job.qualifier()));
    putIfSet(doc, "Qualifier", job.qualifier());
    doc.put("IdempotencyKey", job.idempotencyKey());
    doc.put("State", job.state().name());
    doc.put("Concurrency", job.concurrency() == null ? Batches.DEFAULT_CONCURRENCY : job.concurrency());
    runner.concurrency(job.account(), job.jobId()).ifPresent(c -> doc.put("EffectiveConcurrency", c));
    doc.put("MaxAttempts", job.maxAttempts());
    putIfSet(doc, "Source", job.source());
    var items = new LinkedHashMap<String, Object>();
    items.put("Total", job.totalItems());
    items.put("Uploaded", counts.uploaded());
    items.put("Pending", counts.pending());
    items.put("Running", counts.running());
    items.put("Succeeded", counts.succeeded());
    items.put("Failed", counts.failed());
    doc.put("Items", items);
    doc.put("RatePerSecond", job.state() == BatchJobState.Running ? runner.ratePerSecond(job.account(), job.jobId()) : 0.0);
    doc.put("CreatedAt", job.createdAt().toString());
    putIfSet(doc, "StartedAt", job.startedAt() == null ? null : job.startedAt().toString());
    putIfSet(doc, "FinishedAt", job.finishedAt() == null ? null : job.finishedAt().toString());
    return doc;
  }

  private static Map<String, Object> shape(BatchFailure failure) {
    var doc = new LinkedHashMap<String, Object>();
    doc.put("Index", failure.index());
    putIfSet(doc, "Line", failure.line());
    putIfSet(doc, "Path", failure.path());
    doc.put("Attempts", failure.attempts());
    putIfSet(doc, "ErrorType", failure.errorType());
    putIfSet(doc, "ErrorMessage", failure.errorMessage());
    return doc;
  }

  private static void putIfSet(Map<String, Object> doc, String key, Object value) {
    if (value != null) {
      doc.put(key, value);
    }
  }

  /** The Items member: a list of {Index, Line?, Path?, Payload}, each member checked for its type. */
  private static List<BatchItem> items(ApiCall call) {
    var list = tree(call).get("Items");
    if (list == null || list.isNull()) {
      throw KilnException.invalid("Items is required: a list of {Index, Line or Path, Payload (base64)}.");
    }
    if (!list.isArray()) {
      throw badContent("Items must be a list");
    }
    var items = new ArrayList<BatchItem>(list.size());
    int position = 0;
    for (var element : list) {
      var at = "Items[" + position++ + "]";
      if (!element.isObject()) {
        throw badContent(at + " must be an object");
      }
      var index = element.get("Index");
      if (index == null || !index.isIntegralNumber() || !index.canConvertToLong()) {
        throw badContent(at + ".Index must be an integer");
      }
      var line = element.get("Line");
      if (line != null && !line.isNull() && (!line.isIntegralNumber() || !line.canConvertToInt())) {
        throw badContent(at + ".Line must be an integer");
      }
      var path = element.get("Path");
      if (path != null && !path.isNull() && !path.isString()) {
        throw badContent(at + ".Path must be a string");
      }
      var payload = element.get("Payload");
      if (payload == null || !payload.isString()) {
        throw badContent(at + ".Payload must be a base64 string");
      }
      byte[] bytes;
      try {
        bytes = Base64.getDecoder().decode(payload.asString());
      } catch (IllegalArgumentException e) {
        throw badContent(at + ".Payload is not valid base64");
      }
      items.add(new BatchItem(index.longValue(), line == null || line.isNull() ? null : line.intValue(),
          path == null || path.isNull() ? null : path.asString(), bytes));
    }
    return items;
  }

  private static JsonNode tree(ApiCall call) {
    try {
      var tree = Json.MAPPER.readTree(call.body());
      if (tree == null || !tree.isObject()) {
        throw badContent("the body must be a JSON object");
      }
      return tree;
    } catch (JacksonException e) {
      throw badContent(e.getOriginalMessage());
    }
  }

  private static long longMember(ApiCall call, String name) {
    var value = tree(call).get(name);
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw badContent(name + " must be an integer");
    }
    return value.longValue();
  }

  private static KilnException badContent(String problem) {
    return new KilnException(ErrorCode.InvalidRequestContentException,
        "Could not parse request body into json: " + problem);
  }
}
