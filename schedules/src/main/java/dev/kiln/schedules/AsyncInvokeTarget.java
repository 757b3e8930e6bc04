package dev.kiln.schedules;

import dev.kiln.invoke.async.AsyncInvocations;

/**
 * Runs an occurrence the way an Invoke with InvocationType Event runs: the event is committed to
 * the durable asynchronous queue before {@link #fire} returns, so an occurrence the scheduler counts
 * as run is never lost, and it gets the function's retries, maximum age and destinations.
 */
public final class AsyncInvokeTarget implements ScheduleTarget {
  private final AsyncInvocations async;

  public AsyncInvokeTarget(AsyncInvocations async) {
    this.async = async;
  }

  @Override
  public String fire(String account, String functionName, String qualifier, byte[] payload) {
    return async.accept(account, functionName, qualifier, payload, null);
  }
}
