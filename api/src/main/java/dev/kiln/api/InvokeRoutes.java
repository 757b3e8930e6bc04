package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.api.json.Json;
import dev.kiln.control.ControlPlane;
import dev.kiln.core.EnvironmentModes;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.invoke.Invoker;
import dev.kiln.invoke.async.AsyncInvocations;
import dev.kiln.worker.InvocationRequest;
import dev.kiln.worker.ResponseStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import tools.jackson.core.JacksonException;

/**
 * Invoke: synchronous, asynchronous (Event) and DryRun, with Lambda's headers and limits; and the
 * legacy InvokeAsync. An asynchronous invocation is answered 202 only once its event is stored.
 */
final class InvokeRoutes {
  /** Lambda's payload limits: 6 MB for a synchronous request, 1 MB for an Event, 256 KB for InvokeAsync. */
  static final int MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
  static final int MAX_ASYNC_PAYLOAD = 1024 * 1024;
  static final int MAX_INVOKE_ASYNC_PAYLOAD = 256 * 1024;
  private static final int MAX_CLIENT_CONTEXT = 3583;
  private static final int MAX_TENANT_ID = 256;
  private static final byte[] EMPTY_EVENT = "{}".getBytes(StandardCharsets.US_ASCII);

  private final ControlPlane control;
  private final Invoker invoker;
  private final AsyncInvocations async;

  InvokeRoutes(ControlPlane control, Invoker invoker, AsyncInvocations async) {
    this.control = control;
    this.invoker = invoker;
    this.async = async;
  }

  void register(Router router) {
    router.addOpaque("POST", "/2015-03-31/functions/{FunctionName}/invocations", this::invoke);
    router.addOpaque("POST", "/2021-11-15/functions/{FunctionName}/response-streaming-invocations",
        this::invokeWithResponseStream);
    router.addOpaque("POST", "/2014-11-13/functions/{FunctionName}/invoke-async", this::invokeAsync);
  }

  /** The deprecated InvokeAsync: an Event invoke of at most 256 KB, answered {"Status":202}. */
  private ApiReply invokeAsync(ApiCall call) {
    var requestId = async.accept(call.account(), call.path("FunctionName"), null,
        payload(call, MAX_INVOKE_ASYNC_PAYLOAD, "InvokeAsync"), null);
    return new ApiReply(202, java.util.Map.of("x-amzn-RequestId", requestId),
        new ApiReply.Body.Json(java.util.Map.of("Status", 202)));
  }

  /**
   * InvokeWithResponseStream: the response travels as event-stream PayloadChunk events while the
   * function produces it, then one InvokeComplete event carries any error and the log tail.
   */
  private ApiReply invokeWithResponseStream(ApiCall call) {
    var target = target(call, "RequestResponse", "DryRun");
    if (target.dryRun()) {
      return target.dryRunReply();
    }
    var headers = target.headers();
    return new ApiReply(200, headers, new ApiReply.Body.Writer("application/vnd.amazon.eventstream", out -> {
      var clientGone = new boolean[1];
      ResponseStream stream = chunk -> {
        if (clientGone[0]) {
          return;
        }
        try {
          EventStream.writeEvent(out, "PayloadChunk", "application/octet-stream", chunk);
        } catch (java.io.IOException e) {
          // The caller hung up; the function still runs to its end, as on Lambda.
          clientGone[0] = true;
        }
      };
      var request = target.request(stream);
      var result = invoker.invoke(request);
      if (clientGone[0]) {
        return;
      }
      var complete = new LinkedHashMap<String, Object>();
      if (result.functionError() == null) {
        if (result.payload().length > 0) {
          EventStream.writeEvent(out, "PayloadChunk", "application/octet-stream", result.payload());
        }
      } else {
        var error = errorFields(result.payload());
        complete.put("ErrorCode", error[0]);
        complete.put("ErrorDetails", error[1]);
      }
      if (result.logTail() != null) {
        complete.put("LogResult", Base64.getEncoder().encodeToString(result.logTail().getBytes(StandardCharsets.UTF_8)));
      }
      EventStream.writeEvent(out, "InvokeComplete", "application/json", Json.write(complete));
    }));
  }

  /** errorType and errorMessage of a runtime's error document, as InvokeComplete reports them. */
  private static String[] errorFields(byte[] errorDocument) {
    try {
      var node = Json.MAPPER.readTree(errorDocument);
      return new String[] {node.path("errorType").asString("Unhandled"), node.path("errorMessage").asString("")};
    } catch (JacksonException e) {
      return new String[] {"Unhandled", new String(errorDocument, StandardCharsets.UTF_8)};
    }
  }

  private static String logType(ApiCall call) {
    var logType = call.header("x-amz-log-type").orElse("None");
    if (!logType.equals("None") && !logType.equals("Tail")) {
      throw KilnException.invalid("1 validation error detected: Value '" + logType + "' at 'logType' failed to "
          + "satisfy constraint: Member must satisfy enum value set: [None, Tail]");
    }
    return logType;
  }

  private ApiReply invoke(ApiCall call) {
    if (invocationType(call, "RequestResponse", "Event", "DryRun").equals("Event")) {
      logType(call);
      var payload = payload(call, MAX_ASYNC_PAYLOAD, "InvokeFunction");
      refuseQueuedTenantInvoke(call);
      var requestId = async.accept(call.account(), call.path("FunctionName"), call.queryParam("Qualifier").orElse(null),
          payload, clientContext(call));
      return new ApiReply(202, java.util.Map.of("x-amzn-RequestId", requestId), new ApiReply.Body.None());
    }
    var target = target(call, "RequestResponse", "DryRun");
    if (target.dryRun()) {
      return target.dryRunReply();
    }
    var headers = target.headers();
    var request = target.request(null);
    var result = invoker.invoke(request);
    if (result.functionError() != null) {
      headers.put("X-Amz-Function-Error", result.functionError());
    }
    headers.put("X-Kiln-Attempts", Integer.toString(result.attempts()));
    if (result.logTail() != null) {
      headers.put("X-Amz-Log-Result",
          Base64.getEncoder().encodeToString(result.logTail().getBytes(StandardCharsets.UTF_8)));
    }
    return new ApiReply(200, headers, new ApiReply.Body.Bytes("application/json", result.payload()));
  }

  /**
   * The durable event queue does not keep tenant ids yet, so a per-tenant function's queued event
   * could never run: it is refused now rather than failing later where the caller cannot see it.
   */
  private void refuseQueuedTenantInvoke(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), call.queryParam("Qualifier").orElse(null));
    var version = control.resolveForInvoke(call.account(), ref, ThreadLocalRandom.current().nextDouble());
    if (EnvironmentModes.of(version.environment()).perTenant()) {
      throw KilnException.invalid("The function " + version.functionName() + " keeps each tenant's environments "
          + "apart (" + EnvironmentModes.REUSE_VARIABLE + "=per-tenant) and Kiln does not queue tenant ids yet: "
          + "invoke it synchronously (InvocationType RequestResponse) with the X-Amz-Tenant-Id header.");
    }
  }

  /** Lambda's X-Amz-Tenant-Id: up to 256 printable characters; absent means no tenant. */
  private static String tenantId(ApiCall call) {
    var tenant = call.header("x-amz-tenant-id").orElse(null);
    if (tenant == null) {
      return null;
    }
    if (tenant.isEmpty() || tenant.length() > MAX_TENANT_ID || !tenant.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
      throw KilnException.invalid("1 validation error detected: Value at 'tenantId' failed to satisfy constraint: "
          + "Member must have length between 1 and " + MAX_TENANT_ID + " and consist of printable ASCII characters");
    }
    return tenant;
  }

  /**
   * Everything both Invoke operations read before running anything: the invocation type (one of
   * {@code allowedTypes}), the payload within its limit, the client context, and the version to
   * run, already admitted as runnable.
   */
  private Target target(ApiCall call, String... allowedTypes) {
    var type = invocationType(call, allowedTypes);
    var logType = logType(call);
    var payload = payload(call, MAX_SYNC_PAYLOAD, "InvokeFunction");
    var clientContext = clientContext(call);
    var ref = FunctionRef.parse(call.path("FunctionName"), call.queryParam("Qualifier").orElse(null));
    var version = control.resolveForInvoke(call.account(), ref, ThreadLocalRandom.current().nextDouble());
    invoker.checkRunnable(version.runtime());
    var invokedArn = control.arn(call.account(), ref.name(), ref.qualifier().orElse(null));
    return new Target(type, logType.equals("Tail"), payload, clientContext, version, invokedArn, tenantId(call));
  }

  private static String invocationType(ApiCall call, String... allowedTypes) {
    var type = call.header("x-amz-invocation-type").orElse("RequestResponse");
    if (!java.util.List.of(allowedTypes).contains(type)) {
      throw KilnException.invalid("1 validation error detected: Value '" + type + "' at 'invocationType' failed to "
          + "satisfy constraint: Member must satisfy enum value set: " + java.util.Arrays.toString(allowedTypes));
    }
    return type;
  }

  /** A validated Invoke: what to run and how. */
  private record Target(String type, boolean tailLogs, byte[] payload, String clientContext,
      dev.kiln.core.FunctionVersion version, String invokedArn, String tenantId) {
    boolean dryRun() {
      return type.equals("DryRun");
    }

    LinkedHashMap<String, String> headers() {
      var headers = new LinkedHashMap<String, String>();
      headers.put("X-Amz-Executed-Version", version.version());
      return headers;
    }

    ApiReply dryRunReply() {
      return new ApiReply(204, headers(), new ApiReply.Body.None());
    }

    InvocationRequest request(ResponseStream stream) {
      return new InvocationRequest(UUID.randomUUID().toString(), version, invokedArn, payload, clientContext, tailLogs,
          stream, tenantId);
    }
  }

  /** The event: JSON as Lambda requires, within the limit for the invocation type; none means {}. */
  private static byte[] payload(ApiCall call, int limit, String operation) {
    var body = call.body();
    if (body.length > limit) {
      throw new KilnException(ErrorCode.RequestTooLargeException,
          "Request must be smaller than " + limit + " bytes for the " + operation + " operation");
    }
    if (body.length == 0) {
      return EMPTY_EVENT;
    }
    try (var parser = Json.MAPPER.createParser(body)) {
      while (parser.nextToken() != null) {
        // Only checks that the payload is one well-formed JSON value.
      }
    } catch (JacksonException e) {
      throw new KilnException(ErrorCode.InvalidRequestContentException,
          "Could not parse request body into json: Could not parse payload into json: " + e.getOriginalMessage());
    }
    return body;
  }

  private static String clientContext(ApiCall call) {
    var encoded = call.header("x-amz-client-context");
    if (encoded.isEmpty()) {
      return null;
    }
    if (encoded.get().length() > MAX_CLIENT_CONTEXT) {
      throw KilnException.invalid("Client context must be smaller than " + MAX_CLIENT_CONTEXT + " bytes.");
    }
    try {
      var decoded = new String(Base64.getDecoder().decode(encoded.get()), StandardCharsets.UTF_8);
      Json.MAPPER.readTree(decoded);
      return decoded;
    } catch (IllegalArgumentException | JacksonException e) {
      throw KilnException.invalid("Client context must be a valid Base64-encoded JSON object.");
    }
  }
}
