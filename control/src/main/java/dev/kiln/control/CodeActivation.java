package dev.kiln.control;

import dev.kiln.core.FunctionVersion;

/**
 * Makes a newly accepted version runnable and then reports it ready through
 * {@link ControlPlane#markReady}. This is the seam where execution prepares code (extraction,
 * snapshots); until then it only marks the version ready. Called after the change has committed.
 */
public interface CodeActivation {
  void activate(FunctionVersion version);
}
