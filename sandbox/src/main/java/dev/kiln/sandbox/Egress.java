package dev.kiln.sandbox;

import java.util.List;

/**
 * Where a launched sandbox may connect (see {@link SandboxNetwork}); nowhere until launch. Any policy but none
 * includes DNS through Kiln's resolver.
 *
 * @param internet public IPv4 addresses (everything outside {@link SandboxNetwork#PRIVATE_RANGES})
 * @param destinations reachable in addition; a loopback destination is that service on the host's loopback,
 *     which appears at the same address and port inside the sandbox
 */
public record Egress(boolean internet, List<Destination> destinations) {
  public static final Egress NONE = new Egress(false, List.of());

  public Egress {
    destinations = List.copyOf(destinations);
  }

  /**
   * @param address first address of the range, an unsigned 32-bit IPv4 number
   * @param prefix CIDR prefix length
   * @param port TCP/UDP port, 0 for all (a loopback destination needs one, and is TCP only)
   */
  public record Destination(int address, int prefix, int port) {
    public Destination {
      if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("prefix " + prefix);
      if (port < 0 || port > 65535) throw new IllegalArgumentException("port " + port);
      if (loopbackAddress(address) && (prefix != 32 || port == 0)) {
        throw new IllegalArgumentException("a loopback destination is one address and port");
      }
    }

    boolean loopback() {
      return loopbackAddress(address);
    }

    String cidr() {
      return SandboxNetwork.dotted(address) + "/" + prefix;
    }

    private static boolean loopbackAddress(int address) {
      return (address >>> 24) == 127;
    }
  }

  public boolean none() {
    return !internet && destinations.isEmpty();
  }
}
