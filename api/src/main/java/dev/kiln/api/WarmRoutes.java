package dev.kiln.api;

import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.control.ControlPlane;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.invoke.Invoker;
import dev.kiln.warming.WarmPlan;
import dev.kiln.worker.Worker;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Kiln's warming API: {@code POST /kiln/v1/functions/{name}/warm}, a pre-trigger hint with which a
 * client announces load so that environments are ready before it arrives, and {@code GET
 * /kiln/v1/functions/{name}/warming}, what the keep-alive policy learnt of the function.
 */
final class WarmRoutes {
  static final int MAX_COUNT = 1000;
  static final int DEFAULT_WITHIN_SECONDS = 30;
  static final int MAX_WITHIN_SECONDS = 900;
  /** Hinted environments are kept this much longer than the load was announced for, unless told otherwise. */
  static final int DEFAULT_GRACE_SECONDS = 60;
  static final int MAX_EXPIRE_SECONDS = 4 * 3600;

  private final ControlPlane control;
  private final Invoker invoker;
  private final Worker worker;

  WarmRoutes(ControlPlane control, Invoker invoker, Worker worker) {
    this.control = control;
    this.invoker = invoker;
    this.worker = worker;
  }

  void register(Router router) {
    router
        .add("POST", "/kiln/v1/functions/{FunctionName}/warm", this::warm)
        .add("GET", "/kiln/v1/functions/{FunctionName}/warming", this::state);
  }

  private ApiReply warm(ApiCall call) throws InterruptedException {
    var body = call.json();
    Integer count = body.integer("Count");
    if (count == null || count < 1 || count > MAX_COUNT) {
      throw KilnException.invalid("Count must be an integer from 1 to " + MAX_COUNT
          + ": the number of environments to have ready" + (count == null ? "." : ", not " + count + "."));
    }
    int within = bounded(body.integer("WithinSeconds"), DEFAULT_WITHIN_SECONDS, MAX_WITHIN_SECONDS, "WithinSeconds");
    int expireAfter = bounded(body.integer("ExpireAfterSeconds"), within + DEFAULT_GRACE_SECONDS, MAX_EXPIRE_SECONDS,
        "ExpireAfterSeconds");
    var ref = FunctionRef.parse(call.path("FunctionName"), body.string("Qualifier"));
    var version = control.resolveForInvoke(call.account(), ref, 0.0);
    invoker.checkRunnable(version.runtime());

    // More environments than the function may run at once would only wait in vain.
    var admission = invoker.admission();
    var reserved = control.getFunctionConcurrency(call.account(), FunctionRef.parse(ref.name(), null));
    int cap = reserved.orElseGet(() -> admission.unreservedLimit(call.account()));
    String capped = null;
    if (count > cap) {
      capped = reserved.isPresent()
          ? "the function's reserved concurrency is " + cap
          : "the account's unreserved concurrency is " + cap;
    }
    var outcome = worker.hint(version, Math.min(count, cap), Duration.ofSeconds(within),
        Duration.ofSeconds(expireAfter));

    var doc = new LinkedHashMap<String, Object>();
    doc.put("FunctionName", version.functionName());
    doc.put("Version", version.version());
    doc.put("Requested", count);
    doc.put("Ready", outcome.alreadyWarm() + outcome.ready());
    doc.put("AlreadyWarm", outcome.alreadyWarm());
    doc.put("Started", outcome.started());
    doc.put("Pending", outcome.pending());
    doc.put("Failed", outcome.failed());
    doc.put("ExpiresAt", Instant.now().plusSeconds(expireAfter).toString());
    var reason = capped != null ? capped : outcome.shortBecause();
    if (reason == null && outcome.failed() > 0) {
      reason = outcome.failed() + " environment(s) failed to initialize; the function's log says why";
    }
    if (reason != null) {
      doc.put("Reason", reason);
    }
    return ApiReply.ok(doc);
  }

  private static int bounded(Integer value, int fallback, int max, String name) {
    if (value == null) {
      return Math.min(fallback, max);
    }
    if (value < 1 || value > max) {
      throw KilnException.invalid(name + " must be from 1 to " + max + " seconds, not " + value + ".");
    }
    return value;
  }

  private ApiReply state(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    // Proves the function exists in the caller's account.
    var function = control.getConfiguration(call.account(), ref);
    var versions = worker.warming(call.account(), function.functionName()).stream().map(WarmRoutes::shape).toList();
    var doc = new LinkedHashMap<String, Object>();
    doc.put("FunctionName", function.functionName());
    doc.put("Policy", worker.warmingPolicy());
    doc.put("Versions", versions);
    return ApiReply.ok(doc);
  }

  private static Map<String, Object> shape(Worker.VersionWarming warming) {
    var history = warming.history();
    var counters = warming.counters();
    var doc = new LinkedHashMap<String, Object>();
    doc.put("Version", warming.version());
    doc.put("IdleEnvironments", warming.idleEnvironments());
    var idleTimes = new LinkedHashMap<String, Object>();
    idleTimes.put("Recorded", history.recorded());
    idleTimes.put("Weight", history.weight());
    idleTimes.put("BeyondRange", history.beyondRange());
    idleTimes.put("P5Millis", history.p5Millis());
    idleTimes.put("P50Millis", history.p50Millis());
    idleTimes.put("P99Millis", history.p99Millis());
    idleTimes.put("BinCountVariation", Math.round(history.binCountVariation() * 100) / 100.0);
    idleTimes.put("ConcurrencyLevels", history.levels());
    doc.put("IdleTimes", idleTimes);
    doc.put("PeriodMillis", history.periodMillis());
    doc.put("Plan", plan(history.lastPlan()));
    doc.put("Prewarms", Map.of("Started", counters.prewarmsStarted(), "Used", counters.prewarmsUsed(),
        "Wasted", counters.prewarmsWasted(), "Skipped", counters.prewarmsSkipped()));
    doc.put("Hinted", Map.of("Started", counters.hintedStarted(), "Used", counters.hintedUsed(),
        "Wasted", counters.hintedWasted()));
    return doc;
  }

  /** The latest plan: keep-alive and pre-warm windows in milliseconds after an invocation ends. */
  private static Map<String, Object> plan(WarmPlan plan) {
    if (plan == null) {
      return Map.of();
    }
    var doc = new LinkedHashMap<String, Object>();
    doc.put("Basis", plan.basis().name());
    switch (plan) {
      case WarmPlan.KeepWarm keep -> {
        doc.put("PrewarmAfterMillis", 0);
        doc.put("KeepAliveMillis", keep.keepMillis());
      }
      case WarmPlan.PrewarmLater later -> {
        doc.put("PrewarmAfterMillis", later.afterMillis());
        doc.put("KeepAliveMillis", later.keepMillis());
      }
    }
    return doc;
  }
}
