package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;
import dev.kiln.core.NetworkPolicy;
import dev.kiln.sandbox.Egress;

/** The network a function version's sandboxes get: its {@value NetworkPolicy#VARIABLE}, else the node's default. */
final class FunctionNetwork {
  private FunctionNetwork() {}

  static Egress egress(FunctionVersion version, NetworkPolicy nodeDefault) {
    var policy = NetworkPolicy.of(version.environment()).orElse(nodeDefault);
    return new Egress(policy.internet(), policy.destinations().stream()
        .map(d -> new Egress.Destination(d.address(), d.prefix(), d.port())).toList());
  }
}
