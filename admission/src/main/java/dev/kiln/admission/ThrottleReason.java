package dev.kiln.admission;

/** Lambda's {@code Reason} values for a TooManyRequestsException. */
public enum ThrottleReason {
  /** The account's unreserved concurrency is used up. */
  ConcurrentInvocationLimitExceeded,
  /** The function's reserved concurrency is used up (or is 0). */
  ReservedFunctionConcurrentInvocationLimitExceeded,
  /** The function may not add environments this fast. */
  FunctionInvocationRateLimitExceeded,
  /** A function with reserved concurrency may not add environments this fast. */
  ReservedFunctionInvocationRateLimitExceeded,
  /** The caller's account may not add environments this fast. */
  CallerRateLimitExceeded
}
