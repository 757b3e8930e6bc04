package dev.kiln.api.http;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps a method and raw path to an operation. Patterns are written like
 * {@code /2015-03-31/functions/{FunctionName}/aliases/{Name}}; a trailing slash on the request is
 * ignored, as Lambda does (the aws CLI sends {@code /functions/}, the SDK {@code /functions}).
 * Matching works on raw segments and decodes each parameter once, so an ARN with encoded colons
 * arrives intact.
 */
public final class Router {
  /**
   * A route: its operation, whether it needs a signed request, and whether its body is opaque
   * (an Invoke payload) rather than a JSON request document.
   */
  public record Route(String method, String[] segments, Operation operation, boolean authenticated, boolean opaqueBody) {}

  /** What a request resolved to, with its path parameters. */
  public record Match(Route route, Map<String, String> params) {}

  private final List<Route> routes = new ArrayList<>();

  public Router add(String method, String pattern, Operation operation) {
    routes.add(new Route(method, split(pattern), operation, true, false));
    return this;
  }

  /** A signed route whose body is the caller's own bytes, in any media type. */
  public Router addOpaque(String method, String pattern, Operation operation) {
    routes.add(new Route(method, split(pattern), operation, true, true));
    return this;
  }

  /** A route that proves the caller by other means than SigV4 (for example a presigned link). */
  public Router addUnauthenticated(String method, String pattern, Operation operation) {
    routes.add(new Route(method, split(pattern), operation, false, false));
    return this;
  }

  public Match match(String method, String rawPath) {
    var segments = split(rawPath);
    boolean pathKnown = false;
    for (var route : routes) {
      var params = matchSegments(route.segments(), segments);
      if (params == null) {
        continue;
      }
      pathKnown = true;
      if (route.method().equals(method)) {
        return new Match(route, params);
      }
    }
    throw new KilnException(ErrorCode.UnknownOperationException,
        pathKnown ? "Method " + method + " is not supported on " + rawPath : "Unknown operation " + method + " " + rawPath);
  }

  private static Map<String, String> matchSegments(String[] pattern, String[] actual) {
    if (pattern.length != actual.length) {
      return null;
    }
    Map<String, String> params = new HashMap<>();
    for (int i = 0; i < pattern.length; i++) {
      var p = pattern[i];
      if (p.startsWith("{") && p.endsWith("}")) {
        if (actual[i].isEmpty()) {
          return null;
        }
        params.put(p.substring(1, p.length() - 1), decode(actual[i]));
      } else if (!p.equals(actual[i])) {
        return null;
      }
    }
    return params;
  }

  private static String decode(String segment) {
    try {
      // A path segment is percent-encoded but "+" is literal there, unlike in a query string.
      return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw KilnException.invalid("Malformed percent-encoding in path segment: " + segment);
    }
  }

  private static String[] split(String path) {
    var trimmed = path.startsWith("/") ? path.substring(1) : path;
    if (trimmed.endsWith("/")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    return trimmed.isEmpty() ? new String[0] : trimmed.split("/", -1);
  }
}
