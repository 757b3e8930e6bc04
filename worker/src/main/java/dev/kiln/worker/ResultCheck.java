package dev.kiln.worker;

/**
 * Whether a function's result counts as a success for its transactional attempts
 * (KILN_RETRY_SUCCESS): the worker knows no JSON patterns, so the layer above compiles the
 * function's pattern into one of these.
 */
@FunctionalInterface
public interface ResultCheck {
  /** @param result the response the function returned (no function error) */
  boolean accepts(byte[] result);
}
