package dev.kiln.api;

import dev.kiln.core.FunctionUrlConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A function URL's CORS configuration applied to requests: Kiln answers preflight requests itself,
 * and adds the configured headers to every response for an allowed origin, over any the function
 * set (the configuration takes precedence, as on Lambda).
 */
final class FunctionUrlCors {
  private final FunctionUrlConfig.Cors cors;

  FunctionUrlCors(FunctionUrlConfig.Cors cors) {
    this.cors = cors;
  }

  /** A browser's preflight: OPTIONS with Origin and Access-Control-Request-Method. */
  static boolean isPreflight(String method, String origin, String requestedMethod) {
    return method.equals("OPTIONS") && origin != null && requestedMethod != null;
  }

  /** The headers of the answer to a preflight from {@code origin}; none when the origin is not allowed. */
  Map<String, String> preflightHeaders(String origin) {
    var headers = new LinkedHashMap<String, String>();
    var allowed = allowedOrigin(origin);
    if (allowed == null) {
      return headers;
    }
    headers.put("Access-Control-Allow-Origin", allowed);
    putJoined(headers, "Access-Control-Allow-Methods", cors.allowMethods());
    putJoined(headers, "Access-Control-Allow-Headers", cors.allowHeaders());
    if (cors.maxAge() != null) {
      headers.put("Access-Control-Max-Age", cors.maxAge().toString());
    }
    if (Boolean.TRUE.equals(cors.allowCredentials())) {
      headers.put("Access-Control-Allow-Credentials", "true");
    }
    headers.put("Vary", "Origin");
    return headers;
  }

  /** The headers added to an ordinary response for {@code origin} (null: not a cross-origin request). */
  Map<String, String> responseHeaders(String origin) {
    var headers = new LinkedHashMap<String, String>();
    var allowed = origin == null ? null : allowedOrigin(origin);
    if (allowed == null) {
      return headers;
    }
    headers.put("Access-Control-Allow-Origin", allowed);
    putJoined(headers, "Access-Control-Expose-Headers", cors.exposeHeaders());
    if (Boolean.TRUE.equals(cors.allowCredentials())) {
      headers.put("Access-Control-Allow-Credentials", "true");
    }
    headers.put("Vary", "Origin");
    return headers;
  }

  /**
   * What Access-Control-Allow-Origin says for this origin: "*" when every origin is allowed (the
   * origin itself when credentials are allowed, since browsers refuse "*" with credentials), the
   * origin when it is listed, null when it is not allowed.
   */
  private String allowedOrigin(String origin) {
    var origins = cors.allowOrigins() == null ? List.<String>of() : cors.allowOrigins();
    if (origins.contains("*")) {
      return Boolean.TRUE.equals(cors.allowCredentials()) ? origin : "*";
    }
    return origins.stream().anyMatch(o -> o.equalsIgnoreCase(origin)) ? origin : null;
  }

  private static void putJoined(Map<String, String> headers, String name, List<String> values) {
    if (values != null && !values.isEmpty()) {
      headers.put(name, String.join(",", values));
    }
  }
}
