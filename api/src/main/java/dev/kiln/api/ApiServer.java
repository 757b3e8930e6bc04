package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Authenticator;
import dev.kiln.api.http.Router;
import dev.kiln.api.json.Json;
import dev.kiln.control.ControlPlane;
import dev.kiln.control.EventSourceMappings;
import dev.kiln.invoke.Invoker;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import dev.kiln.core.Limits;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP front end. One handler takes every request: route, read the body within Lambda's limit,
 * authenticate, run the operation, and render either its reply or a Lambda-shaped error. No
 * exception leaves as a stack trace.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

  /**
   * Takes a request whole, before routing and SigV4 verification, when it is addressed to
   * something other than the Lambda API (a function URL); answers false to leave it to the router.
   * It sends its own response, errors included.
   */
  public interface FrontDoor {
    boolean serve(ServerRequest req, ServerResponse res);

    /**
     * Whether a request for this authority (Host) and raw path is this door's; also asked of
     * requests the HTTP server refused before routing, which are then answered in a function URL's
     * error shape.
     */
    boolean addresses(String authority, String rawPath);
  }

  private final Router router = new Router();
  private final Authenticator authenticator;
  private final List<FrontDoor> frontDoors;
  private final WebServer server;

  private ApiServer(ApiSettings settings, Authenticator authenticator, List<Consumer<Router>> routes,
      List<FrontDoor> frontDoors) {
    this.authenticator = authenticator;
    this.frontDoors = List.copyOf(frontDoors);
    routes.forEach(r -> r.accept(router));
    this.server = WebServer.builder()
        .host(settings.host())
        .port(settings.port())
        .shutdownHook(false)
        // Kiln checks body sizes itself so the client gets Lambda's 413, not the server's.
        .maxPayloadSize(-1)
        .directHandlers(RefusedRequests.handlers(this.frontDoors))
        // Hands RefusedRequests the server's reason (when it is safe to repeat) to put in the message.
        .errorHandling(e -> e.includeEntity(true))
        .routing(r -> r.any(this::handle))
        .build();
  }

  /** Starts serving the given route sets (see {@link #controlPlane} and {@link #invoke}). */
  public static ApiServer start(ApiSettings settings, Authenticator authenticator, List<Consumer<Router>> routes) {
    return start(settings, authenticator, routes, List.of());
  }

  /** Starts serving the route sets, with front doors asked first about every request. */
  public static ApiServer start(ApiSettings settings, Authenticator authenticator, List<Consumer<Router>> routes,
      List<FrontDoor> frontDoors) {
    var api = new ApiServer(settings, authenticator, routes, frontDoors);
    api.server.start();
    if (!api.server.isRunning() || api.server.port() <= 0) {
      api.server.stop();
      throw new IllegalStateException("cannot listen on " + settings.host() + ":" + settings.port()
          + " (is another process using it?). Choose another --port.");
    }
    return api;
  }

  /** The control-plane operations: functions, versions, aliases, tags, account settings, code links. */
  public static Consumer<Router> controlPlane(ApiSettings settings, ControlPlane control, Clock clock,
      java.util.function.BiConsumer<String, String> onFunctionDeleted) {
    return new ControlPlaneRoutes(control, new CodeLinks(settings.codeLinkKey(), clock), settings.accountConcurrency(),
        onFunctionDeleted)::register;
  }

  /** Reserved concurrency. */
  public static Consumer<Router> concurrency(ControlPlane control, dev.kiln.admission.Admission admission,
      Invoker invoker) {
    return new ConcurrencyRoutes(control, admission, invoker)::register;
  }

  /** Kiln's counters: concurrency, throttles, environments. */
  public static Consumer<Router> stats(Invoker invoker) {
    return new StatsRoutes(invoker)::register;
  }

  /** Kiln's warming API: pre-trigger hints and what the keep-alive policy learnt. */
  public static Consumer<Router> warming(ControlPlane control, Invoker invoker, dev.kiln.worker.Worker worker) {
    return new WarmRoutes(control, invoker, worker)::register;
  }

  /** The system call profiles Kiln learned of functions (KILN_SECCOMP_PROFILE). */
  public static Consumer<Router> syscallProfiles(ControlPlane control, dev.kiln.worker.Worker worker) {
    return new SyscallProfileRoutes(control, worker)::register;
  }

  /** Kiln's own log API. */
  public static Consumer<Router> logs(ControlPlane control, dev.kiln.store.LogStore logs) {
    return new LogRoutes(control, logs)::register;
  }

  /** Kiln's schedule API (cron, rate and one-time schedules that invoke functions). */
  public static Consumer<Router> schedules(dev.kiln.control.Schedules schedules) {
    return new ScheduleRoutes(schedules)::register;
  }

  /** Batch jobs over a data set: created and changed through {@code batches}, run by {@code runner}. */
  public static Consumer<Router> batches(dev.kiln.control.Batches batches, dev.kiln.batch.BatchRunner runner,
      ControlPlane control) {
    return new BatchRoutes(batches, runner, control)::register;
  }

  /** Event-source mappings; {@code onChange} hears of every accepted change (the pollers follow it). */
  public static Consumer<Router> eventSourceMappings(EventSourceMappings mappings, Runnable onChange) {
    return new EventSourceMappingRoutes(mappings, onChange)::register;
  }

  /** Invoke in all its invocation types, and the legacy InvokeAsync. */
  public static Consumer<Router> invoke(ControlPlane control, Invoker invoker,
      dev.kiln.invoke.async.AsyncInvocations async) {
    return new InvokeRoutes(control, invoker, async)::register;
  }

  /** Event-invoke configurations: retries, maximum event age and destinations of asynchronous invocations. */
  public static Consumer<Router> eventInvokeConfigs(dev.kiln.control.EventInvokeConfigs configs) {
    return new EventInvokeConfigRoutes(configs)::register;
  }

  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    server.stop();
  }

  private void handle(ServerRequest req, ServerResponse response) {
    var res = req.prologue().method().text().equals("HEAD") ? new HeadResponse(response) : response;
    for (var door : frontDoors) {
      if (door.serve(req, res)) {
        return;
      }
    }
    var requestId = UUID.randomUUID().toString();
    res.header("x-amzn-RequestId", requestId);
    var method = req.prologue().method().text();
    var rawPath = req.path().rawPath();
    try {
      var match = router.match(method, rawPath);
      var body = RequestBody.read(req, Limits.MAX_REQUEST_BODY_BYTES, ApiServer::tooLarge);
      var call = new ApiCall(method, rawPath, req.query().rawValue(), headers(req), parseQuery(req.query().rawValue()),
          match.params(), body, "http://" + req.authority(), null);
      if (body.length > 0 && !match.route().opaqueBody()) {
        requireJson(call);
      }
      if (match.route().authenticated()) {
        call = call.withCaller(authenticator.authenticate(call));
      }
      send(res, match.route().operation().handle(call));
    } catch (KilnException e) {
      if (e.code().status() >= 500) {
        log.warn("request={} {} {} failed: {}", requestId, method, rawPath, e.getMessage());
      }
      sendError(res, e);
    } catch (Exception e) {
      log.error("request={} {} {} failed unexpectedly", requestId, method, rawPath, e);
      sendError(res, new KilnException(ErrorCode.ServiceException,
          "Kiln failed to handle the request (request id " + requestId + "); the server log has the details."));
    }
  }

  private static KilnException tooLarge() {
    return new KilnException(ErrorCode.RequestTooLargeException,
        "Request must be smaller than " + Limits.MAX_REQUEST_BODY_BYTES + " bytes for this operation.");
  }

  /** The control plane speaks JSON; a body declared as something else is refused as Lambda refuses it. */
  private static void requireJson(ApiCall call) {
    var type = call.header("content-type").orElse("").toLowerCase(Locale.ROOT);
    if (!type.isEmpty() && !type.contains("json")) {
      throw new KilnException(ErrorCode.UnsupportedMediaTypeException,
          "The content type " + type + " is not supported. Send application/json.");
    }
  }

  private static Map<String, List<String>> headers(ServerRequest req) {
    var map = new LinkedHashMap<String, List<String>>();
    for (var header : req.headers()) {
      map.computeIfAbsent(header.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).addAll(header.allValues());
    }
    return map;
  }

  static Map<String, List<String>> parseQuery(String rawQuery) {
    var map = new LinkedHashMap<String, List<String>>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return map;
    }
    for (var pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      var name = eq < 0 ? pair : pair.substring(0, eq);
      var value = eq < 0 ? "" : pair.substring(eq + 1);
      try {
        map.computeIfAbsent(URLDecoder.decode(name, StandardCharsets.UTF_8), k -> new ArrayList<>())
            .add(URLDecoder.decode(value, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw KilnException.invalid("Malformed percent-encoding in query parameter: " + pair);
      }
    }
    return map;
  }

  private static void send(ServerResponse res, ApiReply reply) throws IOException {
    res.status(reply.status());
    reply.headers().forEach(res::header);
    switch (reply.body()) {
      case ApiReply.Body.None none -> res.send();
      case ApiReply.Body.Json json -> {
        res.header("Content-Type", "application/json");
        res.send(Json.write(json.document()));
      }
      case ApiReply.Body.Bytes bytes -> {
        res.header("Content-Type", bytes.contentType());
        res.send(bytes.bytes());
      }
      case ApiReply.Body.Writer writer -> {
        res.header("Content-Type", writer.contentType());
        // The response starts with the first byte written, so an error raised before any (a
        // throttle, say) can still be answered with its own status.
        var out = new FirstWriteOutputStream(res::outputStream);
        writer.writer().writeTo(out);
        out.close();
      }
      case ApiReply.Body.Stream stream -> {
        res.header("Content-Type", stream.contentType());
        try (var in = stream.in(); var out = res.outputStream()) {
          in.transferTo(out);
        }
      }
    }
  }

  private static void sendError(ServerResponse res, KilnException error) {
    if (res.isSent()) {
      return;
    }
    if (error.retryAfterSeconds() != null) {
      res.header("Retry-After", error.retryAfterSeconds().toString());
    }
    res.status(error.code().status());
    res.header("x-amzn-ErrorType", error.code().name());
    res.header("Content-Type", "application/json");
    res.send(Json.write(ErrorShape.API.document(error)));
  }
}
