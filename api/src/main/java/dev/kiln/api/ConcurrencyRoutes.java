package dev.kiln.api;

import dev.kiln.admission.Admission;
import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.control.ControlPlane;
import dev.kiln.control.ProvisionedTarget;
import dev.kiln.invoke.Invoker;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Put/Get/DeleteFunctionConcurrency on the paths the clients use (/2017-10-31 to set and delete,
 * /2019-09-30 to read). The store holds the reservation; admission enforces it from the next call.
 */
final class ConcurrencyRoutes {
  private static final String PROVISIONED = "/2019-09-30/functions/{FunctionName}/provisioned-concurrency";

  private final ControlPlane control;
  private final Admission admission;
  private final Invoker invoker;
  private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.locks.ReentrantLock> accountLocks =
      new java.util.concurrent.ConcurrentHashMap<>();

  ConcurrencyRoutes(ControlPlane control, Admission admission, Invoker invoker) {
    this.control = control;
    this.admission = admission;
    this.invoker = invoker;
  }

  void register(Router router) {
    router
        .add("PUT", "/2017-10-31/functions/{FunctionName}/concurrency", this::put)
        .add("DELETE", "/2017-10-31/functions/{FunctionName}/concurrency", this::delete)
        .add("GET", "/2019-09-30/functions/{FunctionName}/concurrency", this::get)
        .add("PUT", PROVISIONED, this::putProvisioned)
        .add("GET", PROVISIONED, this::getOrListProvisioned)
        .add("DELETE", PROVISIONED, this::deleteProvisioned);
  }

  private ApiReply putProvisioned(ApiCall call) {
    var requested = call.json().integer("ProvisionedConcurrentExecutions");
    if (requested == null) {
      throw KilnException.invalid("1 validation error detected: Value null at 'provisionedConcurrentExecutions' "
          + "failed to satisfy constraint: Member must not be null");
    }
    var target = control.putProvisionedConcurrency(call.account(), qualified(call), requested);
    invoker.provision(target.key(), target.version(), requested);
    return ApiReply.json(202, provisionedShape(target, false));
  }

  private ApiReply getOrListProvisioned(ApiCall call) {
    if (call.queryParam("List").isPresent() || call.queryParam("Qualifier").isEmpty()) {
      var ref = FunctionRef.parse(call.path("FunctionName"), null);
      var configs = control.listProvisionedConcurrency(call.account(), ref).stream()
          .map(t -> provisionedShape(t, true)).toList();
      return ApiReply.ok(Map.of("ProvisionedConcurrencyConfigs", configs));
    }
    return ApiReply.ok(provisionedShape(control.getProvisionedConcurrency(call.account(), qualified(call)), false));
  }

  private ApiReply deleteProvisioned(ApiCall call) {
    var ref = qualified(call);
    control.deleteProvisionedConcurrency(call.account(), ref);
    invoker.deprovision(call.account() + ":" + ref.name() + ":" + ref.qualifier().orElseThrow());
    return ApiReply.noContent();
  }

  /**
   * Reservation changes of one account run one at a time, so the sum checked against the minimum
   * unreserved is never read stale and admission ends up with what the store holds. (On one node;
   * several nodes would lock a row per account instead.)
   */
  private java.util.concurrent.locks.ReentrantLock accountLock(String account) {
    return accountLocks.computeIfAbsent(account, a -> new java.util.concurrent.locks.ReentrantLock());
  }

  private static FunctionRef qualified(ApiCall call) {
    return FunctionRef.parse(call.path("FunctionName"), call.queryParam("Qualifier").orElse(null));
  }

  /** Lambda's provisioned-concurrency document; Status comes from how many environments are ready now. */
  private Map<String, Object> provisionedShape(ProvisionedTarget target, boolean withArn) {
    var status = invoker.provisionedStatus(target.key());
    var requested = target.config().requested();
    int allocated = Math.min(status.allocated(), requested);
    var doc = new LinkedHashMap<String, Object>();
    if (withArn) {
      doc.put("FunctionArn", control.arn(target.account(), target.function(), target.config().qualifier()));
    }
    doc.put("RequestedProvisionedConcurrentExecutions", requested);
    doc.put("AvailableProvisionedConcurrentExecutions", allocated);
    doc.put("AllocatedProvisionedConcurrentExecutions", allocated);
    if (status.failure() != null) {
      doc.put("Status", "FAILED");
      doc.put("StatusReason", status.failure());
    } else {
      doc.put("Status", allocated >= requested ? "READY" : "IN_PROGRESS");
    }
    doc.put("LastModified", LambdaShapes.LAST_MODIFIED.format(target.config().lastModified()));
    return doc;
  }

  private ApiReply put(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    var requested = call.json().integer("ReservedConcurrentExecutions");
    if (requested == null) {
      throw KilnException.invalid("1 validation error detected: Value null at 'reservedConcurrentExecutions' failed "
          + "to satisfy constraint: Member must not be null");
    }
    var settings = admission.settings();
    var lock = accountLock(call.account());
    lock.lock();
    try {
      int reserved = control.putFunctionConcurrency(call.account(), ref, requested, settings.accountConcurrency(),
          settings.minimumUnreserved());
      admission.setReserved(call.account(), ref.name(), reserved);
      return ApiReply.ok(Map.of("ReservedConcurrentExecutions", reserved));
    } finally {
      lock.unlock();
    }
  }

  private ApiReply get(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    return ApiReply.ok(control.getFunctionConcurrency(call.account(), ref)
        .<Map<String, Object>>map(r -> Map.of("ReservedConcurrentExecutions", r))
        .orElse(Map.of()));
  }

  private ApiReply delete(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    var lock = accountLock(call.account());
    lock.lock();
    try {
      control.deleteFunctionConcurrency(call.account(), ref);
      admission.setReserved(call.account(), ref.name(), null);
    } finally {
      lock.unlock();
    }
    return ApiReply.noContent();
  }
}
