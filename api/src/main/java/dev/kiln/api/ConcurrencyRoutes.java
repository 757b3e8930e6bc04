package dev.kiln.api;

import dev.kiln.admission.Admission;
import dev.kiln.api.http.ApiCall;
import dev.kiln.api.http.ApiReply;
import dev.kiln.api.http.Router;
import dev.kiln.control.ControlPlane;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import java.util.Map;

/**
 * Put/Get/DeleteFunctionConcurrency on the paths the clients use (/2017-10-31 to set and delete,
 * /2019-09-30 to read). The store holds the reservation; admission enforces it from the next call.
 */
final class ConcurrencyRoutes {
  private final ControlPlane control;
  private final Admission admission;

  ConcurrencyRoutes(ControlPlane control, Admission admission) {
    this.control = control;
    this.admission = admission;
  }

  void register(Router router) {
    router
        .add("PUT", "/2017-10-31/functions/{FunctionName}/concurrency", this::put)
        .add("DELETE", "/2017-10-31/functions/{FunctionName}/concurrency", this::delete)
        .add("GET", "/2019-09-30/functions/{FunctionName}/concurrency", this::get);
  }

  private ApiReply put(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    var requested = call.json().integer("ReservedConcurrentExecutions");
    if (requested == null) {
      throw KilnException.invalid("1 validation error detected: Value null at 'reservedConcurrentExecutions' failed "
          + "to satisfy constraint: Member must not be null");
    }
    var settings = admission.settings();
    int reserved = control.putFunctionConcurrency(call.account(), ref, requested, settings.accountConcurrency(),
        settings.minimumUnreserved());
    admission.setReserved(call.account(), ref.name(), reserved);
    return ApiReply.ok(Map.of("ReservedConcurrentExecutions", reserved));
  }

  private ApiReply get(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    return ApiReply.ok(control.getFunctionConcurrency(call.account(), ref)
        .<Map<String, Object>>map(r -> Map.of("ReservedConcurrentExecutions", r))
        .orElse(Map.of()));
  }

  private ApiReply delete(ApiCall call) {
    var ref = FunctionRef.parse(call.path("FunctionName"), null);
    control.deleteFunctionConcurrency(call.account(), ref);
    admission.setReserved(call.account(), ref.name(), null);
    return ApiReply.noContent();
  }
}
