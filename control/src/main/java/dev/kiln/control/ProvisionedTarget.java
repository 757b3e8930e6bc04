package dev.kiln.control;

import dev.kiln.core.FunctionVersion;
import dev.kiln.core.ProvisionedConcurrency;

/** A provisioned-concurrency configuration with the function version it keeps environments of. */
public record ProvisionedTarget(String account, String function, ProvisionedConcurrency config, FunctionVersion version) {
  /** Identifies the configuration to the worker. */
  public String key() {
    return account + ":" + function + ":" + config.qualifier();
  }
}
