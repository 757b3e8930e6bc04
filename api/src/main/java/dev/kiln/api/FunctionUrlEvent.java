package dev.kiln.api;

import dev.kiln.api.json.Json;
import dev.kiln.core.Credential;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The event a function URL hands its function: API Gateway's payload format 2.0, filled in as
 * Lambda fills it for function URLs.
 */
final class FunctionUrlEvent {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).withZone(ZoneOffset.UTC);

  private FunctionUrlEvent() {}

  /**
   * One request as it reached a function URL.
   *
   * @param rawPath the path the function sees (for the path form, what follows the url id)
   * @param headers header values by lower-case name, in arrival order
   * @param domainName the URL's host name, {@code <url-id>.lambda-url.<region>.localhost}
   * @param port the port the request came in on
   */
  record Request(
      String urlId,
      String method,
      String rawPath,
      String rawQuery,
      Map<String, List<String>> headers,
      byte[] body,
      String sourceIp,
      String protocol,
      String domainName,
      int port) {
    String header(String lowerCaseName) {
      var values = headers.get(lowerCaseName);
      return values == null || values.isEmpty() ? null : values.getFirst();
    }
  }

  /**
   * The event as JSON bytes.
   *
   * @param caller the verified credential of an AWS_IAM URL, or null for an open one
   */
  static byte[] build(Request request, String requestId, Credential caller, Instant now) {
    var event = new LinkedHashMap<String, Object>();
    event.put("version", "2.0");
    event.put("routeKey", "$default");
    event.put("rawPath", request.rawPath());
    event.put("rawQueryString", request.rawQuery());
    var cookies = cookies(request.headers().get("cookie"));
    if (!cookies.isEmpty()) {
      event.put("cookies", cookies);
    }
    event.put("headers", headers(request));
    var query = ApiServer.parseQuery(request.rawQuery());
    if (!query.isEmpty()) {
      var parameters = new LinkedHashMap<String, String>();
      query.forEach((name, values) -> parameters.put(name, String.join(",", values)));
      event.put("queryStringParameters", parameters);
    }
    event.put("requestContext", requestContext(request, requestId, caller, now));
    var body = request.body();
    boolean base64 = false;
    if (body.length > 0) {
      var text = textual(request.header("content-type")) ? utf8(body) : null;
      base64 = text == null;
      event.put("body", base64 ? Base64.getEncoder().encodeToString(body) : text);
    }
    event.put("isBase64Encoded", base64);
    return Json.write(event);
  }

  private static Map<String, Object> requestContext(Request request, String requestId, Credential caller,
      Instant now) {
    var http = new LinkedHashMap<String, Object>();
    http.put("method", request.method());
    http.put("path", request.rawPath());
    http.put("protocol", request.protocol());
    http.put("sourceIp", request.sourceIp());
    var userAgent = request.header("user-agent");
    http.put("userAgent", userAgent == null ? "" : userAgent);
    var context = new LinkedHashMap<String, Object>();
    // Lambda names the caller's account; an open URL has no caller, and Lambda says "anonymous".
    context.put("accountId", caller == null ? "anonymous" : caller.account());
    context.put("apiId", request.urlId());
    if (caller != null) {
      context.put("authorizer", Map.of("iam", iam(caller)));
    }
    context.put("domainName", request.domainName());
    context.put("domainPrefix", request.urlId());
    context.put("http", http);
    context.put("requestId", requestId);
    context.put("routeKey", "$default");
    context.put("stage", "$default");
    context.put("time", TIME.format(now));
    context.put("timeEpoch", now.toEpochMilli());
    return context;
  }

  /** Kiln's credentials belong to an account, not to IAM users: the caller is the account's root. */
  private static Map<String, Object> iam(Credential caller) {
    var iam = new LinkedHashMap<String, Object>();
    iam.put("accessKey", caller.accessKeyId());
    iam.put("accountId", caller.account());
    iam.put("callerId", caller.account());
    iam.put("cognitoIdentity", null);
    iam.put("principalOrgId", null);
    iam.put("userArn", "arn:aws:iam::" + caller.account() + ":root");
    iam.put("userId", caller.account());
    return iam;
  }

  /**
   * Header values joined with commas under lower-case names, with the forwarding headers Lambda's
   * front end adds. Cookies travel in their own member instead.
   */
  private static Map<String, String> headers(Request request) {
    var headers = new LinkedHashMap<String, String>();
    request.headers().forEach((name, values) -> {
      if (!name.equals("cookie")) {
        headers.put(name, String.join(",", values));
      }
    });
    headers.putIfAbsent("x-amzn-trace-id", traceId());
    headers.put("x-forwarded-proto", "http");
    headers.put("x-forwarded-port", Integer.toString(request.port()));
    headers.put("x-forwarded-for", request.sourceIp());
    return headers;
  }

  private static List<String> cookies(List<String> cookieHeaders) {
    var cookies = new ArrayList<String>();
    if (cookieHeaders == null) {
      return cookies;
    }
    for (var header : cookieHeaders) {
      for (var cookie : header.split(";")) {
        var trimmed = cookie.strip();
        if (!trimmed.isEmpty()) {
          cookies.add(trimmed);
        }
      }
    }
    return cookies;
  }

  /** X-Ray's trace id form: Root=1-<epoch seconds hex>-<96 random bits hex>. */
  private static String traceId() {
    var random = new byte[12];
    ThreadLocalRandom.current().nextBytes(random);
    return "Root=1-" + Long.toHexString(System.currentTimeMillis() / 1000) + "-" + HexFormat.of().formatHex(random);
  }

  /**
   * Whether a body of this media type reaches the function as text; anything else (images, forms,
   * octet streams, or no type at all) is base64-encoded, as Lambda does.
   */
  static boolean textual(String contentType) {
    if (contentType == null) {
      return false;
    }
    var type = contentType.toLowerCase(Locale.ROOT);
    return type.startsWith("text/") || type.contains("json") || type.contains("xml") || type.contains("javascript")
        || type.contains("yaml");
  }

  /** The body as text when it is valid UTF-8, else null (it then travels base64-encoded). */
  private static String utf8(byte[] body) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
