package dev.kiln.api;

import dev.kiln.api.json.Json;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import java.util.List;
import java.util.regex.Pattern;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the requests the HTTP server refuses before any route sees them (a head over its size
 * limits, a malformed request line or header, an HTTP version it does not speak) in Lambda's error
 * shape, with the status that fits the fault: a function URL's shape when the request was
 * addressed to one (as far as its head could be read), the API's otherwise.
 */
final class RefusedRequests implements DirectHandler {
  private static final Logger log = LoggerFactory.getLogger(RefusedRequests.class);
  /** How much of the server's own explanation goes into the message: enough to name the fault. */
  private static final int MAX_DETAIL = 200;
  /** Helidon's words for a request head over its 16 KB limit (it answers them with a plain 400). */
  private static final String HEAD_TOO_LARGE = "Header size exceeded";
  /** What Helidon says instead of a reason it considers unsafe to repeat to the client. */
  private static final String UNSAFE_PLACEHOLDER = "Bad request, see server log";
  private static final Pattern HTTP_VERSION = Pattern.compile("HTTP/(\\d+)(?:\\.\\d+)?");

  private final List<ApiServer.FrontDoor> doors;

  private RefusedRequests(List<ApiServer.FrontDoor> doors) {
    this.doors = doors;
  }

  /** This handler for every kind of refusal. */
  static DirectHandlers handlers(List<ApiServer.FrontDoor> doors) {
    var handler = new RefusedRequests(doors);
    var builder = DirectHandlers.builder();
    for (var type : EventType.values()) {
      builder.addHandler(type, handler);
    }
    return builder.build();
  }

  /** A refusal as Lambda names it, with the HTTP status it goes out with (which may differ from the code's). */
  private record Refusal(int status, KilnException error) {}

  @Override
  public TransportResponse handle(TransportRequest request, EventType type, Status status,
      ServerResponseHeaders headers, String message) {
    var refusal = refusal(request, type, status, message);
    var authority = request.headers().first(HeaderNames.HOST).orElse(null);
    var path = request.path() == null ? "" : request.path();
    var shape = doors.stream().anyMatch(door -> door.addresses(authority, path)) ? ErrorShape.FUNCTION_URL
        : ErrorShape.API;
    log.debug("refused before routing: {} {} with {} ({} {}): {}", request.method(), path, refusal.status(), type,
        status.code(), message);
    return TransportResponse.builder()
        .status(Status.create(refusal.status()))
        .headers(headers)
        .header(HeaderNames.create("x-amzn-RequestId"), UUID.randomUUID().toString())
        .header(HeaderNames.create("x-amzn-ErrorType"), refusal.error().code().name())
        .header(HeaderNames.CONTENT_TYPE, "application/json")
        .entity(Json.write(shape.document(refusal.error())))
        .keepAlive(type.keepAlive())
        .build();
  }

  private static Refusal refusal(TransportRequest request, EventType type, Status status, String message) {
    var reason = reason(message);
    int code = status.code();
    if (type == EventType.INTERNAL_ERROR || code >= 500 && type != EventType.HTTP_VERSION_NOT_SUPPORTED) {
      // Helidon 4.5 also calls a request line whose method is not a token an internal error: it cannot be told apart.
      return new Refusal(500, new KilnException(ErrorCode.ServiceException,
          "Kiln failed to read the request; the server log has the details."));
    }
    if (type == EventType.HTTP_VERSION_NOT_SUPPORTED || otherHttpVersion(request.protocolVersion())) {
      return new Refusal(505, new KilnException(ErrorCode.InvalidRequestContentException,
          "Kiln speaks HTTP/1.1 (and 1.0) only."));
    }
    if (code == 431 || HEAD_TOO_LARGE.equalsIgnoreCase(message)) {
      return new Refusal(431, new KilnException(ErrorCode.RequestTooLargeException,
          "The request's headers are too large: the request line and headers must fit in 16 KB."));
    }
    if (code == Status.REQUEST_URI_TOO_LONG_414.code()) {
      return new Refusal(414, new KilnException(ErrorCode.RequestTooLargeException,
          "The request's URI is too long: the request line must fit in 4 KB."));
    }
    if (code == Status.REQUEST_ENTITY_TOO_LARGE_413.code()) {
      return new Refusal(413, new KilnException(ErrorCode.RequestTooLargeException, "The request is too large."));
    }
    return new Refusal(code >= 400 ? code : 400, new KilnException(ErrorCode.InvalidRequestContentException,
        "The request is not valid HTTP/1.1" + (reason == null ? "." : ": " + reason)));
  }

  /** What the server said was wrong, when it said it in a way fit for the client (not its placeholder). */
  private static String reason(String message) {
    if (message == null || message.isBlank() || message.startsWith(UNSAFE_PLACEHOLDER)) {
      return null;
    }
    return message.length() > MAX_DETAIL ? message.substring(0, MAX_DETAIL) + "..." : message;
  }

  /** Whether the request line named an HTTP version other than 1.x ({@code HTTP/2.0}, {@code HTTP/3.0}). */
  private static boolean otherHttpVersion(String protocolVersion) {
    var version = protocolVersion == null ? null : HTTP_VERSION.matcher(protocolVersion);
    return version != null && version.find() && !version.group(1).equals("1");
  }
}
