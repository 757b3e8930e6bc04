package dev.kiln.schedules;

import dev.kiln.control.ControlPlane;
import dev.kiln.core.FunctionRef;
import dev.kiln.invoke.Invoker;
import dev.kiln.worker.InvocationRequest;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs an occurrence the way an Invoke with InvocationType Event runs: the version is resolved as
 * Invoke resolves it (aliases by their weights), then the invoker accepts it asynchronously.
 */
public final class AsyncInvokeTarget implements ScheduleTarget {
  private final ControlPlane control;
  private final Invoker invoker;

  public AsyncInvokeTarget(ControlPlane control, Invoker invoker) {
    this.control = control;
    this.invoker = invoker;
  }

  @Override
  public String fire(String account, String functionName, String qualifier, byte[] payload) {
    var ref = new FunctionRef(Optional.empty(), functionName, Optional.ofNullable(qualifier));
    var version = control.resolveForInvoke(account, ref, ThreadLocalRandom.current().nextDouble());
    String requestId = UUID.randomUUID().toString();
    invoker.invokeAsync(new InvocationRequest(requestId, version, control.arn(account, functionName, qualifier),
        payload, null, false, null));
    return requestId;
  }
}
