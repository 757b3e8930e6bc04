package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;

/**
 * Asked before the worker starts a new execution environment (never when it reuses a warm one);
 * throws to refuse, e.g. when the function is scaling faster than its rate allows.
 */
@FunctionalInterface
public interface ScalingGate {
  ScalingGate OPEN = version -> {};

  void beforeNewEnvironment(FunctionVersion version);
}
