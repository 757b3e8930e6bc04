package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.control.ControlPlane;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.store.LogStore;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Kiln's log API: {@code GET /kiln/v1/functions/{name}/logs?position=N&limit=M&wait=S}. A client
 * follows a stream by passing back {@code nextPosition}; {@code wait} long-polls up to S seconds for
 * new events; {@code position=-1} starts at the end (only new events).
 */
final class LogRoutes {
  private static final int MAX_WAIT_SECONDS = 20;

  private final ControlPlane control;
  private final LogStore logs;

  LogRoutes(ControlPlane control, LogStore logs) {
    this.control = control;
    this.logs = logs;
  }

  void register(Router router) {
    router.add("GET", "/kiln/v1/functions/{FunctionName}/logs", this::read);
  }

  private ApiReply read(ApiCall call) throws InterruptedException {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    // Proves the function exists in the caller's account before any of its logs are read.
    control.getConfiguration(call.account(), ref);
    long position = longParam(call, "position", 0);
    int limit = (int) Math.min(Math.max(longParam(call, "limit", 1000), 1), 10_000);
    long waitMs = Math.min(Math.max(longParam(call, "wait", 0), 0), MAX_WAIT_SECONDS) * 1000;
    if (position < 0) {
      position = logs.end(call.account(), ref.name());
    }
    long until = System.currentTimeMillis() + waitMs;
    var page = logs.read(call.account(), ref.name(), position, limit);
    while (page.events().isEmpty() && System.currentTimeMillis() < until) {
      Thread.sleep(100);
      page = logs.read(call.account(), ref.name(), position, limit);
    }
    List<Map<String, Object>> events = page.events().stream().map(e -> {
      var doc = new LinkedHashMap<String, Object>();
      doc.put("timestamp", e.timestamp());
      doc.put("requestId", e.requestId());
      doc.put("message", e.message());
      return (Map<String, Object>) doc;
    }).toList();
    return ApiReply.ok(Map.of("events", events, "nextPosition", Math.max(page.nextPosition(), position)));
  }

  private static long longParam(ApiCall call, String name, long fallback) {
    var raw = call.queryParam(name);
    if (raw.isEmpty()) {
      return fallback;
    }
    try {
      return Long.parseLong(raw.get());
    } catch (NumberFormatException e) {
      throw KilnException.invalid("Query parameter " + name + " must be an integer, not '" + raw.get() + "'.");
    }
  }
}
