package dev.kiln.schedules;

/**
 * Where a schedule's occurrence goes: an asynchronous invocation of the function. An occurrence
 * counts as run once {@link #fire} returns, so an implementation must return only after the
 * invocation is accepted (durably, where the invocation queue is durable).
 */
@FunctionalInterface
public interface ScheduleTarget {

  /**
   * Hands {@code payload} to an asynchronous invocation of the function.
   *
   * @param qualifier version or alias; null for the unqualified function
   * @return the invocation's request id
   * @throws RuntimeException when the invocation was not accepted (the function is missing or not
   *     active, say); the scheduler retries the occurrence
   */
  String fire(String account, String functionName, String qualifier, byte[] payload);
}
