package dev.kiln.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a function's sandbox may open connections, chosen with the reserved variable {@value #VARIABLE} (or the
 * node's default, {@code kiln up --network}). The value is {@code none}, or a comma-separated list of entries:
 * <ul>
 *   <li>{@code internet}: public IPv4 addresses: not 0/8, 10/8, 100.64/10, 127/8, 169.254/16 (link-local, cloud
 *       metadata), 172.16/12, 192.168/16 or multicast and above (the sandbox module enforces exactly that);</li>
 *   <li>a CIDR ({@code 10.0.0.0/16}) or address ({@code 10.0.0.5}): every port there;</li>
 *   <li>{@code CIDR:port} or {@code address:port}: that TCP/UDP port only. A loopback address with a port
 *       ({@code 127.0.0.1:5432}) is that service on Kiln's own host, reached inside the sandbox at the same
 *       address and port.</li>
 * </ul>
 * A policy other than {@code none} also gets DNS through the resolver Kiln provides. Whatever the policy, Kiln's
 * API, other sandboxes and every port of the host that is not listed stay out of reach (the mechanism enforces that).
 *
 * @param internet whether public addresses are reachable
 * @param destinations what is reachable in addition (private ranges and the host's services included)
 */
public record NetworkPolicy(boolean internet, List<Destination> destinations) {
  public static final String VARIABLE = "KILN_NETWORK";
  public static final NetworkPolicy NONE = new NetworkPolicy(false, List.of());
  public static final NetworkPolicy INTERNET = new NetworkPolicy(true, List.of());
  private static final int MAX_ENTRIES = 64;
  private static final String SYNTAX = "Use none, internet, or a comma-separated list of CIDRs and address:port or"
      + " CIDR:port entries, optionally with internet (for example internet,10.0.0.5:5432,127.0.0.1:6379).";

  public NetworkPolicy {
    destinations = List.copyOf(destinations);
  }

  /**
   * A reachable IPv4 range, on one port or all.
   *
   * @param address the range's first address, as an unsigned 32-bit number
   * @param prefix the CIDR prefix length, 0 to 32
   * @param port a TCP/UDP port, or 0 for every port
   */
  public record Destination(int address, int prefix, int port) {
    public boolean loopback() {
      return (address >>> 24) == 127;
    }

    public String cidr() {
      return (address >>> 24) + "." + ((address >>> 16) & 255) + "." + ((address >>> 8) & 255) + "." + (address & 255)
          + "/" + prefix;
    }

    @Override
    public String toString() {
      return port == 0 ? cidr() : cidr() + ":" + port;
    }
  }

  public boolean none() {
    return !internet && destinations.isEmpty();
  }

  /** The policy a function's environment variables choose, or empty when they leave it to the node's default. */
  public static Optional<NetworkPolicy> of(Map<String, String> environment) {
    String value = environment.get(VARIABLE);
    return value == null ? Optional.empty() : Optional.of(parse(value));
  }

  /** @throws KilnException InvalidParameterValueException naming {@value #VARIABLE} and what it accepts */
  public static NetworkPolicy parse(String value) {
    try {
      return parseOrThrow(value);
    } catch (IllegalArgumentException e) {
      throw KilnException.invalid("Value '" + value + "' of " + VARIABLE + " is not valid: " + e.getMessage() + ". "
          + SYNTAX);
    }
  }

  private static NetworkPolicy parseOrThrow(String value) {
    String trimmed = value.strip();
    if (trimmed.equals("none")) return NONE;
    if (trimmed.isEmpty()) throw new IllegalArgumentException("it is empty");
    boolean internet = false;
    var destinations = new ArrayList<Destination>();
    for (String raw : trimmed.split(",", -1)) {
      String entry = raw.strip();
      if (entry.equals("internet")) {
        internet = true;
      } else if (entry.equals("none")) {
        throw new IllegalArgumentException("none cannot be combined with other entries");
      } else {
        destinations.add(destination(entry));
      }
    }
    if (destinations.size() > MAX_ENTRIES) {
      throw new IllegalArgumentException("it lists more than " + MAX_ENTRIES + " destinations");
    }
    // The sandbox's verdicts are interval sets, which hold no overlapping ranges: say so now, not at launch.
    for (int i = 0; i < destinations.size(); i++) {
      for (int j = i + 1; j < destinations.size(); j++) {
        var a = destinations.get(i);
        var b = destinations.get(j);
        if (a.port() == b.port() && overlap(a, b)) {
          throw new IllegalArgumentException("'" + b + "' overlaps '" + a + "'; list each range once");
        }
      }
    }
    return new NetworkPolicy(internet, destinations);
  }

  private static Destination destination(String entry) {
    if (entry.isEmpty()) throw new IllegalArgumentException("it has an empty entry");
    if (entry.indexOf(':') != entry.lastIndexOf(':') || entry.startsWith("[")) {
      throw new IllegalArgumentException("'" + entry + "' is not IPv4 (sandboxes have IPv4 only)");
    }
    String range = entry;
    int port = 0;
    int colon = entry.indexOf(':');
    if (colon >= 0) {
      range = entry.substring(0, colon);
      port = number(entry.substring(colon + 1), 1, 65535, "port", entry);
    }
    int prefix = 32;
    int slash = range.indexOf('/');
    if (slash >= 0) {
      prefix = number(range.substring(slash + 1), 0, 32, "prefix length", entry);
      range = range.substring(0, slash);
    }
    String[] octets = range.split("\\.", -1);
    if (octets.length != 4) throw new IllegalArgumentException("'" + entry + "' is not an IPv4 address or CIDR");
    int address = 0;
    for (String octet : octets) address = (address << 8) | number(octet, 0, 255, "address", entry);
    int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
    if ((address & mask) != address) {
      throw new IllegalArgumentException("'" + entry + "' has host bits set (the range starts at "
          + new Destination(address & mask, prefix, 0).cidr() + ")");
    }
    var destination = new Destination(address, prefix, port);
    if (destination.loopback() && (prefix != 32 || port == 0)) {
      throw new IllegalArgumentException("'" + entry + "': a service on Kiln's host loopback is listed as one"
          + " address and port, like 127.0.0.1:5432");
    }
    return destination;
  }

  private static boolean overlap(Destination a, Destination b) {
    int prefix = Math.min(a.prefix(), b.prefix());
    int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
    return (a.address() & mask) == (b.address() & mask);
  }

  private static int number(String text, int min, int max, String what, String entry) {
    if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException("'" + entry + "' has an invalid " + what);
    }
    int n = Integer.parseInt(text);
    if (n < min || n > max) throw new IllegalArgumentException("'" + entry + "' has an invalid " + what);
    return n;
  }

  @Override
  public String toString() {
    if (none()) return "none";
    var parts = new ArrayList<String>();
    if (internet) parts.add("internet");
    destinations.forEach(d -> parts.add(d.toString()));
    return String.join(",", parts);
  }
}
