package dev.kiln.api;

import dev.kiln.admission.ThrottleReason;
import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.invoke.Invoker;
import java.util.LinkedHashMap;

/**
 * {@code GET /kiln/v1/stats}: the caller's account as this node sees it: its current concurrency
 * (account and per function), its throttles by Reason, its environments by state and the worker's
 * other counters, all kept per account. No figure shows another account's activity; node-wide
 * totals wait for an administrator's view.
 */
final class StatsRoutes {
  private final Invoker invoker;

  StatsRoutes(Invoker invoker) {
    this.invoker = invoker;
  }

  void register(Router router) {
    router.add("GET", "/kiln/v1/stats", this::stats);
  }

  private ApiReply stats(ApiCall call) {
    var admission = invoker.admission();
    var throttles = new LinkedHashMap<String, Long>();
    for (var reason : ThrottleReason.values()) {
      throttles.put(reason.name(), admission.throttles(call.account(), reason));
    }
    var doc = new LinkedHashMap<String, Object>();
    doc.put("account", call.account());
    doc.put("concurrency", admission.concurrency(call.account()));
    doc.put("accountLimit", admission.settings().accountConcurrency());
    doc.put("unreservedLimit", admission.unreservedLimit(call.account()));
    doc.put("functionConcurrency", admission.functionConcurrency(call.account()));
    doc.put("throttles", throttles);
    doc.put("worker", invoker.workerStats(call.account()));
    return ApiReply.ok(doc);
  }
}
