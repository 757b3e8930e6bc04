package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;

/**
 * Asked before the warming policy starts an environment no invocation is waiting for. Answering
 * false skips the pre-warm: it must never use up scaling capacity a user invoke would need.
 */
@FunctionalInterface
public interface PrewarmGate {
  boolean mayPrewarm(FunctionVersion version);
}
