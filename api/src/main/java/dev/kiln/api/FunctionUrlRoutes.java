package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.Authenticator;
import dev.kiln.api.json.Json;
import dev.kiln.control.ControlPlane;
import dev.kiln.control.FunctionUrls;
import dev.kiln.core.Credential;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.FunctionUrlConfig;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.KilnException;
import dev.kiln.invoke.Invoker;
import dev.kiln.worker.InvocationRequest;
import dev.kiln.worker.ResponseStream;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves function URLs. A request is for a function URL when its Host is
 * {@code <url-id>.lambda-url.<region>.localhost[:port]} (any method, any path), or when its path
 * starts with {@code /kiln/v1/url/<url-id>} (for clients that cannot set Host; the function sees
 * the rest of the path). Such requests never reach the Lambda API's router or its SigV4 check: an
 * AWS_IAM URL verifies the signature itself, an open one needs none.
 *
 * <p>The request becomes a payload format 2.0 event, runs synchronously through admission like any
 * Invoke, and the result becomes the HTTP response as Lambda maps it.
 */
public final class FunctionUrlRoutes implements ApiServer.FrontDoor {
  private static final Logger log = LoggerFactory.getLogger(FunctionUrlRoutes.class);
  /** Where the path form of a URL starts. */
  public static final String PATH_PREFIX = "/kiln/v1/url/";
  private static final Pattern HOST =
      Pattern.compile("([a-z0-9]+)\\.lambda-url\\.([a-z0-9-]+)\\.localhost(?::\\d+)?\\.?");
  private static final String FORBIDDEN = "Forbidden";

  private final FunctionUrls urls;
  private final ControlPlane control;
  private final Invoker invoker;
  private final Authenticator authenticator;
  private final Clock clock;

  /** @param authenticator the API's SigV4 check, applied to AWS_IAM URLs */
  public FunctionUrlRoutes(FunctionUrls urls, ControlPlane control, Invoker invoker, Authenticator authenticator,
      Clock clock) {
    this.urls = urls;
    this.control = control;
    this.invoker = invoker;
    this.authenticator = authenticator;
    this.clock = clock;
  }

  /** Which URL and path a request is for, in either form. */
  private record Address(String urlId, String region, String functionPath) {}

  @Override
  public boolean serve(ServerRequest req, ServerResponse res) {
    var address = address(req);
    if (address == null) {
      return false;
    }
    var requestId = UUID.randomUUID().toString();
    res.header("x-amzn-RequestId", requestId);
    try {
      handle(address, requestId, req, res);
    } catch (KilnException e) {
      sendError(res, e);
    } catch (IllegalArgumentException e) {
      // Helidon refused a header that FunctionUrlResponse let through: the 502 goes without the head set so far.
      log.warn("function URL request={} {}: the function's response cannot be sent: {}", requestId,
          address.urlId(), e.getMessage());
      if (!res.isSent()) {
        res.headers().clear();
        res.header("x-amzn-RequestId", requestId);
      }
      sendFunctionError(res);
    } catch (Exception e) {
      log.error("function URL request={} {} failed unexpectedly", requestId, address.urlId(), e);
      sendError(res, new KilnException(ErrorCode.ServiceException,
          "Kiln failed to handle the request (request id " + requestId + "); the server log has the details."));
    }
    return true;
  }

  @Override
  public boolean addresses(String authority, String rawPath) {
    return address(authority, rawPath) != null;
  }

  private static Address address(ServerRequest req) {
    return address(req.authority(), req.path().rawPath());
  }

  private static Address address(String authority, String rawPath) {
    var host = authority == null ? "" : authority.toLowerCase(Locale.ROOT);
    var match = HOST.matcher(host);
    if (match.matches()) {
      return new Address(match.group(1), match.group(2), rawPath.isEmpty() ? "/" : rawPath);
    }
    if (!rawPath.startsWith(PATH_PREFIX)) {
      return null;
    }
    var rest = rawPath.substring(PATH_PREFIX.length());
    int slash = rest.indexOf('/');
    var urlId = (slash < 0 ? rest : rest.substring(0, slash)).toLowerCase(Locale.ROOT);
    return new Address(urlId, null, slash < 0 ? "/" : rest.substring(slash));
  }

  private void handle(Address address, String requestId, ServerRequest req, ServerResponse res) throws IOException {
    var config = (address.region() == null || address.region().equals(urls.region().name())
        ? urls.byUrlId(address.urlId()) : Optional.<FunctionUrlConfig>empty()).orElse(null);
    if (config == null) {
      // Lambda's answer for a URL that does not exist: the same 403 as a refused one, without a message.
      refuse(res, null);
      return;
    }
    var method = req.prologue().method().text();
    var headers = headers(req);
    var origin = first(headers, "origin");
    var cors = config.cors() == null ? null : new FunctionUrlCors(config.cors());
    if (cors != null && FunctionUrlCors.isPreflight(method, origin, first(headers, "access-control-request-method"))) {
      res.status(200);
      cors.preflightHeaders(origin).forEach(res::header);
      res.send();
      return;
    }
    // Refused with 413 beyond what a synchronous invocation may carry.
    var body = RequestBody.read(req, InvokeRoutes.MAX_SYNC_PAYLOAD, FunctionUrlRoutes::tooLarge);
    Credential caller = null;
    if (config.authType() == FunctionUrlConfig.AuthType.AWS_IAM) {
      caller = verifiedCaller(req, method, headers, body, config);
      if (caller == null) {
        refuse(res, FORBIDDEN);
        return;
      }
    }
    FunctionVersion version;
    try {
      var ref = new FunctionRef(Optional.of(config.account()), config.functionName(),
          config.unqualified() ? Optional.empty() : Optional.of(config.qualifier()));
      version = control.resolveForInvoke(config.account(), ref, ThreadLocalRandom.current().nextDouble());
    } catch (KilnException e) {
      if (e.code() != ErrorCode.ResourceNotFoundException) {
        throw e;
      }
      // The URL's alias was deleted: the URL stays but refuses every request, as on Lambda.
      refuse(res, FORBIDDEN);
      return;
    }
    var request = new FunctionUrlEvent.Request(config.urlId(), method, address.functionPath(),
        req.query().rawValue(), headers, body, sourceIp(req), protocol(req),
        config.urlId() + ".lambda-url." + urls.region().name() + ".localhost", req.localPeer().port());
    var event = FunctionUrlEvent.build(request, requestId, caller, clock.instant());
    if (event.length > InvokeRoutes.MAX_SYNC_PAYLOAD) {
      throw tooLarge();
    }
    var responseCors = cors == null ? Map.<String, String>of() : cors.responseHeaders(origin);
    if (config.effectiveInvokeMode() == FunctionUrlConfig.InvokeMode.RESPONSE_STREAM) {
      var stream = new FunctionUrlStream(head -> open(res, head, responseCors), () -> sendFunctionError(res));
      var result = invoker.invoke(invocation(requestId, version, config, event, stream));
      stream.finish(result);
      return;
    }
    var result = invoker.invoke(invocation(requestId, version, config, event, null));
    if (result.failed()) {
      sendFunctionError(res);
      return;
    }
    FunctionUrlResponse response;
    try {
      response = FunctionUrlResponse.of(result.payload());
    } catch (FunctionUrlResponse.Malformed e) {
      log.info("function URL {} of {}: the function's response cannot be mapped: {}", config.urlId(),
          config.functionName(), e.getMessage());
      sendFunctionError(res);
      return;
    }
    writeHead(res, response, responseCors);
    if (response.sendsBody()) {
      res.send(response.body());
    } else {
      res.send();
    }
  }

  private InvocationRequest invocation(String requestId, FunctionVersion version, FunctionUrlConfig config,
      byte[] event, ResponseStream stream) {
    return new InvocationRequest(requestId, version, urls.functionArn(config), event, null, false, stream);
  }

  /**
   * The credential that signed the request, when it is one of the URL owner's; null otherwise. The
   * signature covers the request as it arrived: the URL's host and path, or the path form's.
   */
  private Credential verifiedCaller(ServerRequest req, String method, Map<String, List<String>> headers,
      byte[] body, FunctionUrlConfig config) {
    var rawQuery = req.query().rawValue();
    var call = new ApiCall(method, req.path().rawPath(), rawQuery, headers, ApiServer.parseQuery(rawQuery), Map.of(),
        body, "http://" + req.authority(), null);
    try {
      var credential = authenticator.authenticate(call);
      return credential.account().equals(config.account()) ? credential : null;
    } catch (KilnException e) {
      log.debug("function URL {}: signature refused: {}", config.urlId(), e.getMessage());
      return null;
    }
  }

  /** Sends the head of a streamed response and opens its body; a body-less status gets no body. */
  private static OutputStream open(ServerResponse res, FunctionUrlResponse response, Map<String, String> cors) {
    writeHead(res, response, cors);
    if (!response.sendsBody()) {
      res.send();
      return OutputStream.nullOutputStream();
    }
    return new FirstWriteOutputStream(res::outputStream);
  }

  /** Status, the function's headers under the configured CORS ones (which win), and cookies. */
  private static void writeHead(ServerResponse res, FunctionUrlResponse response, Map<String, String> cors) {
    res.status(response.status());
    response.headers().forEach((name, value) -> {
      if (cors.keySet().stream().noneMatch(name::equalsIgnoreCase)) {
        res.header(name, value);
      }
    });
    cors.forEach(res::header);
    if (!response.cookies().isEmpty()) {
      res.header("Set-Cookie", response.cookies().toArray(String[]::new));
    }
  }

  /** Lambda's answer when the function failed (error, timeout, crash) or its response cannot be read. */
  private static void sendFunctionError(ServerResponse res) {
    if (res.isSent()) {
      return;
    }
    res.status(502);
    res.header("Content-Type", "text/plain; charset=utf-8");
    res.send("Internal Server Error".getBytes(StandardCharsets.UTF_8));
  }

  /** 403 with Lambda's body: {@code {"Message":"Forbidden"}}, or a null message for an unknown URL. */
  private static void refuse(ServerResponse res, String message) {
    var doc = new LinkedHashMap<String, Object>();
    doc.put("Message", message);
    res.status(403);
    res.header("x-amzn-ErrorType", ErrorCode.AccessDeniedException.name());
    res.header("Content-Type", "application/json");
    res.send(Json.write(doc));
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
    res.send(Json.write(ErrorShape.FUNCTION_URL.document(error)));
  }

  private static KilnException tooLarge() {
    return new KilnException(ErrorCode.RequestTooLargeException,
        "Request must be smaller than " + InvokeRoutes.MAX_SYNC_PAYLOAD + " bytes for the InvokeFunction operation");
  }

  private static Map<String, List<String>> headers(ServerRequest req) {
    var map = new LinkedHashMap<String, List<String>>();
    for (var header : req.headers()) {
      map.computeIfAbsent(header.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).addAll(header.allValues());
    }
    map.replaceAll((name, values) -> Collections.unmodifiableList(values));
    return map;
  }

  private static String first(Map<String, List<String>> headers, String name) {
    var values = headers.get(name);
    return values == null || values.isEmpty() ? null : values.getFirst();
  }

  private static String sourceIp(ServerRequest req) {
    return req.remotePeer().address() instanceof InetSocketAddress inet && inet.getAddress() != null
        ? inet.getAddress().getHostAddress() : req.remotePeer().host();
  }

  private static String protocol(ServerRequest req) {
    var prologue = req.prologue();
    return prologue.protocol() + "/" + prologue.protocolVersion();
  }
}
