package dev.kiln.api.http;

import dev.kiln.api.json.JsonBody;
import dev.kiln.core.Credential;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One API request after routing and authentication: everything an operation may read, decoded.
 *
 * @param headers header values by lower-case name
 * @param query decoded query parameters; a repeated key keeps every value in order
 * @param pathParams decoded path parameters named by the route pattern
 * @param baseUrl scheme and authority the client used, for links that point back at this server
 * @param caller the verified credential, or null on unauthenticated routes
 */
public record ApiCall(
    String method,
    String rawPath,
    String rawQuery,
    Map<String, List<String>> headers,
    Map<String, List<String>> query,
    Map<String, String> pathParams,
    byte[] body,
    String baseUrl,
    Credential caller) {

  public String account() {
    return caller.account();
  }

  public String path(String name) {
    return pathParams.get(name);
  }

  public Optional<String> queryParam(String name) {
    var values = query.get(name);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
  }

  public List<String> queryParams(String name) {
    return query.getOrDefault(name, List.of());
  }

  /** A query parameter that must be an integer when present, as Lambda validates MaxItems. */
  public Integer intQueryParam(String name) {
    var raw = queryParam(name);
    if (raw.isEmpty()) {
      return null;
    }
    try {
      return Integer.valueOf(raw.get());
    } catch (NumberFormatException e) {
      throw dev.kiln.core.KilnException.invalid("Value '" + raw.get() + "' at '" + name + "' is not an integer.");
    }
  }

  public Optional<String> header(String lowerCaseName) {
    var values = headers.get(lowerCaseName);
    return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
  }

  public JsonBody json() {
    return JsonBody.parse(body);
  }

  public ApiCall withRoute(Map<String, String> params) {
    return new ApiCall(method, rawPath, rawQuery, headers, query, params, body, baseUrl, caller);
  }

  public ApiCall withCaller(Credential credential) {
    return new ApiCall(method, rawPath, rawQuery, headers, query, pathParams, body, baseUrl, credential);
  }

  /** Headers as a case-insensitive map, the way signature checks want them. */
  public Map<String, List<String>> headersIgnoringCase() {
    var map = new TreeMap<String, List<String>>(String.CASE_INSENSITIVE_ORDER);
    map.putAll(headers);
    return map;
  }
}
