package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.api.json.JsonBody;
import dev.kiln.control.FunctionUrlRequest;
import dev.kiln.control.FunctionUrls;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.FunctionUrlConfig;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * Create/Get/Update/Delete/ListFunctionUrlConfigs on Lambda's /2021-10-31 paths. Every URL is
 * reported as {@code http://<url-id>.lambda-url.<region>.localhost:<port>/}, naming the port this
 * node actually listens on.
 */
public final class FunctionUrlConfigRoutes {
  private static final String URL = "/2021-10-31/functions/{FunctionName}/url";
  private static final String URLS = "/2021-10-31/functions/{FunctionName}/urls";
  /** ISO-8601 with microseconds, as Lambda writes CreationTime and LastModifiedTime. */
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  private final FunctionUrls urls;
  private final IntSupplier port;

  /** @param port the port the API listens on, read when a URL is rendered */
  public FunctionUrlConfigRoutes(FunctionUrls urls, IntSupplier port) {
    this.urls = urls;
    this.port = port;
  }

  public void register(Router router) {
    router
        .add("POST", URL, this::create)
        .add("GET", URL, this::get)
        .add("PUT", URL, this::update)
        .add("DELETE", URL, this::delete)
        .add("GET", URLS, this::list);
  }

  /** The address a URL id is served at on this node (host form). */
  private static String functionUrl(String urlId, String region, int port) {
    return "http://" + urlId + ".lambda-url." + region + ".localhost:" + port + "/";
  }

  private ApiReply create(ApiCall call) {
    var created = urls.create(call.account(), qualified(call), request(call.json()));
    // As on Lambda, the creation answer has no LastModifiedTime and names InvokeMode only when given.
    return ApiReply.json(201, shape(created, false, false));
  }

  private ApiReply get(ApiCall call) {
    return ApiReply.ok(shape(urls.get(call.account(), qualified(call)), true, true));
  }

  private ApiReply update(ApiCall call) {
    return ApiReply.ok(shape(urls.update(call.account(), qualified(call), request(call.json())), true, false));
  }

  private ApiReply delete(ApiCall call) {
    urls.delete(call.account(), qualified(call));
    return ApiReply.noContent();
  }

  private ApiReply list(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    var page = urls.list(call.account(), ref, call.queryParam("Marker").orElse(null), call.intQueryParam("MaxItems"));
    var items = page.items().stream().map(c -> shape(c, true, true)).toList();
    var doc = new LinkedHashMap<String, Object>();
    doc.put("FunctionUrlConfigs", items);
    if (page.nextMarker() != null) {
      doc.put("NextMarker", page.nextMarker());
    }
    return ApiReply.ok(doc);
  }

  private static FunctionRef qualified(ApiCall call) {
    return FunctionRef.parse(call.path("FunctionName"), call.queryParam("Qualifier").orElse(null));
  }

  private static FunctionUrlRequest request(JsonBody body) {
    var cors = body.object("Cors");
    return new FunctionUrlRequest(body.string("AuthType"), cors == null ? null : cors(cors), body.string("InvokeMode"));
  }

  private static FunctionUrlConfig.Cors cors(JsonBody cors) {
    return new FunctionUrlConfig.Cors(cors.bool("AllowCredentials"), cors.stringList("AllowHeaders"),
        cors.stringList("AllowMethods"), cors.stringList("AllowOrigins"), cors.stringList("ExposeHeaders"),
        cors.integer("MaxAge"));
  }

  /**
   * FunctionUrlConfig as Lambda returns it. {@code effectiveMode}: Get and List report BUFFERED for
   * a URL whose mode was never set; Create and Update report only a mode that was set.
   */
  private Map<String, Object> shape(FunctionUrlConfig config, boolean withLastModified, boolean effectiveMode) {
    var doc = new LinkedHashMap<String, Object>();
    doc.put("FunctionUrl", functionUrl(config.urlId(), urls.region().name(), port.getAsInt()));
    doc.put("FunctionArn", urls.functionArn(config));
    doc.put("AuthType", config.authType().name());
    if (config.cors() != null) {
      doc.put("Cors", corsShape(config.cors()));
    }
    doc.put("CreationTime", TIMESTAMP.format(config.creationTime()));
    if (withLastModified) {
      doc.put("LastModifiedTime", TIMESTAMP.format(config.lastModifiedTime()));
    }
    var mode = effectiveMode ? config.effectiveInvokeMode() : config.invokeMode();
    if (mode != null) {
      doc.put("InvokeMode", mode.name());
    }
    return doc;
  }

  private static Map<String, Object> corsShape(FunctionUrlConfig.Cors cors) {
    var doc = new LinkedHashMap<String, Object>();
    putIfSet(doc, "AllowCredentials", cors.allowCredentials());
    putIfSet(doc, "AllowHeaders", cors.allowHeaders());
    putIfSet(doc, "AllowMethods", cors.allowMethods());
    putIfSet(doc, "AllowOrigins", cors.allowOrigins());
    putIfSet(doc, "ExposeHeaders", cors.exposeHeaders());
    putIfSet(doc, "MaxAge", cors.maxAge());
    return doc;
  }

  private static void putIfSet(Map<String, Object> doc, String member, Object value) {
    if (value != null) {
      doc.put(member, value);
    }
  }
}
