package dev.kiln.sandbox;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The network of one backend's sandboxes: a point-to-point veth pair per sandbox (no shared L2 between
 * sandboxes), addresses from a block of this Kiln instance, and one nftables table that decides where each
 * sandbox may go.
 *
 * <h2>Addresses</h2>
 * A /20 block of 100.64.0.0/10 picked from the root's hash (the next free one if a route already covers it):
 * link {@code i} is a /31, {@code base+2i} on the host side (the sandbox's gateway) and {@code base+2i+1} in
 * the sandbox; {@code base+1} is the resolver address every sandbox's {@code /etc/resolv.conf} names. Host-side
 * interfaces are named {@code k<6 hex of the hash>-<i>}.
 *
 * <h2>Verdicts</h2>
 * The table {@code inet kiln_<hash>} holds sets keyed by the sandbox's address, so a policy is applied at launch
 * with one batch of element additions and nothing at all for {@code none}. Until launch a sandbox is in no set:
 * every packet it sends is refused with "no route to host". Always, whatever the policy: nothing new enters a
 * sandbox (other sandboxes, of this or another Kiln, cannot reach it); the sandbox block is never a destination;
 * of the host itself only the resolver and listed address:port pairs are reachable (a listed range without a port
 * does not open the host), never a port in {@link
 * #forbidPort} (Kiln's API); IPv6 is dropped; a packet whose source does not belong to its interface is dropped
 * (reverse-path check). {@code internet} means every destination outside {@link #PRIVATE_RANGES}; listed
 * destinations are reachable whatever range they are in. Egress is masqueraded behind the host's address.
 * A listed service on the host's loopback is not routed at all: the JVM listens at the same address and port
 * inside the sandbox's namespace and relays to it, like the Runtime API.
 *
 * <h2>Host state</h2>
 * Forwarding must be on: Kiln sets {@code net.ipv4.ip_forward=1} when it is off (and leaves it on). The table,
 * the veths and the routes that come with their addresses are removed on close, and at start when an earlier
 * Kiln on the same root left them.
 */
final class SandboxNetwork implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxNetwork.class);
  /** Not part of {@code internet}: this host, private networks, CGNAT, link-local (cloud metadata), multicast. */
  static final List<String> PRIVATE_RANGES = List.of("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
      "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/3");
  private static final int POOL = 0x64400000; // 100.64.0.0
  private static final int POOL_PREFIX = 10;
  private static final int BLOCK_PREFIX = 20;
  private static final int LINKS = 1 << (32 - BLOCK_PREFIX - 1);
  private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");

  private final Path ip;
  private final Path nft;
  private final Path nsenter;
  private final String table;
  private final String ifPrefix;
  private final int block;
  private final BitSet used = new BitSet(LINKS);
  private final DnsForwarder dns;
  private final Path resolvConf;
  private final Set<Integer> forbiddenPorts = ConcurrentHashMap.newKeySet();
  private volatile NftShell shell;
  private int nextIndex = 1;

  /**
   * One sandbox's link.
   *
   * @param hostInterface the host side of the veth pair
   * @param gateway the host side's address, the sandbox's default route
   * @param address the sandbox's address
   */
  record Link(int index, String hostInterface, int gateway, int address) {}

  /** Null when sandbox networking can work here, else why not. */
  static String unavailableReason() {
    if (!Os.isLinux()) return "not Linux";
    if (Os.uid() != 0) return "not running as root";
    for (String tool : List.of("ip", "nft", "nsenter")) {
      if (Os.which(tool).isEmpty()) return tool + " is not installed (apt-get install iproute2 nftables util-linux)";
    }
    return null;
  }

  /**
   * Cleans what an earlier Kiln on this root left, then sets up this instance's table and resolver.
   *
   * @param hash the sandbox root's hash (names the table and the interfaces)
   * @param dnsUpstreams where the resolver forwards; empty for the host's {@code /etc/resolv.conf} servers
   * @param resolvConf where to write the {@code resolv.conf} every sandbox gets
   */
  SandboxNetwork(String hash, List<InetSocketAddress> dnsUpstreams, Path resolvConf) {
    String reason = unavailableReason();
    if (reason != null) throw new SandboxException("sandbox networking is not available: " + reason);
    this.ip = Os.which("ip").orElseThrow();
    this.nft = Os.which("nft").orElseThrow();
    this.nsenter = Os.which("nsenter").orElseThrow();
    this.table = "kiln_" + hash;
    this.ifPrefix = "k" + hash.substring(0, 6) + "-";
    this.resolvConf = resolvConf;
    removeStale();
    this.block = pickBlock(hash);
    used.set(0); // base+0 unused, base+1 is the resolver
    enableForwarding();
    var upstreams = dnsUpstreams.isEmpty() ? DnsForwarder.hostUpstreams() : dnsUpstreams;
    this.dns = new DnsForwarder(upstreams, this::inBlock);
    try {
      nft(tableText(dns.port()));
      shell = new NftShell(nft, table);
      Files.writeString(resolvConf, "nameserver " + dotted(resolver()) + "\noptions timeout:2 attempts:2\n");
      Files.setPosixFilePermissions(resolvConf, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    } catch (IOException | RuntimeException e) {
      close();
      throw new SandboxException("cannot set up the sandbox network: " + e.getMessage(), e);
    }
    log.info("sandbox network: addresses {}, nftables table inet {}, resolver {} forwarding to {}",
        dotted(block) + "/" + BLOCK_PREFIX, table, dotted(resolver()), upstreams);
  }

  /** The file to bind over a sandbox's {@code /etc/resolv.conf}. */
  Path resolvConf() {
    return resolvConf;
  }

  /** A port of the host no sandbox may ever reach, whatever its policy lists (Kiln's API). */
  void forbidPort(int port) {
    if (forbiddenPorts.add(port)) {
      nft("add element inet " + table + " forbidden_ports { " + port + " }\n");
    }
  }

  boolean forbidden(int port) {
    return forbiddenPorts.contains(port);
  }

  /** Takes a free link; {@link #connect} builds it once the sandbox's network namespace exists. */
  synchronized Link reserve() {
    // Round robin: a link is reused only after all others, long after its namespace (and veth) went away.
    int index = used.nextClearBit(nextIndex);
    if (index >= LINKS) index = used.nextClearBit(1);
    if (index >= LINKS) throw new SandboxException("no free sandbox network address (" + LINKS + " in use)");
    used.set(index);
    nextIndex = index + 1;
    return new Link(index, ifPrefix + index, block + 2 * index, block + 2 * index + 1);
  }

  /**
   * Creates the veth pair into the namespace of {@code pid} (named {@code eth0} there) with both addresses and
   * the sandbox's default route. The sandbox stays in no verdict set: it reaches nothing until {@link #apply}.
   */
  void connect(Link link, long pid) {
    if (Files.exists(Path.of("/sys/class/net", link.hostInterface()))) { // its last namespace is still going away
      runQuietly(List.of(ip.toString(), "link", "del", link.hostInterface()), "");
    }
    run(List.of(ip.toString(), "-batch", "-"), """
        link add %s type veth peer name eth0 netns %d
        addr add %s/31 dev %s
        link set %s up
        """.formatted(link.hostInterface(), pid, dotted(link.gateway()), link.hostInterface(), link.hostInterface()));
    run(List.of(nsenter.toString(), "--net=/proc/" + pid + "/ns/net", ip.toString(), "-batch", "-"), """
        addr add %s/31 dev eth0
        link set eth0 up
        route add default via %s dev eth0
        """.formatted(dotted(link.address()), dotted(link.gateway())));
  }

  /** Puts the sandbox's address into the sets its policy needs (one nft batch; nothing for none). */
  void apply(Link link, Egress egress) {
    String elements = elements(link, egress);
    if (!elements.isEmpty()) nft(prefixed("add ", elements));
  }

  /**
   * Takes the sandbox out of every set and frees the link. Its veth goes with its network namespace (when the
   * sandbox's last process and socket are gone); {@link #connect} removes one still there when the link is reused.
   */
  void release(Link link, Egress applied) {
    try {
      String elements = elements(link, applied);
      if (!elements.isEmpty()) nft(prefixed("delete ", elements));
    } catch (SandboxException e) {
      log.warn("removing the verdicts of {}: {}", link.hostInterface(), e.getMessage());
    } finally {
      synchronized (this) {
        used.clear(link.index());
      }
    }
  }

  /** One element line per set ({@code element inet T set { ... }}), without the leading verb. */
  private String elements(Link link, Egress egress) {
    if (egress.none()) return "";
    String source = dotted(link.address());
    var lines = new StringBuilder();
    lines.append("element inet ").append(table).append(" launched { ").append(source).append(" }\n");
    if (egress.internet()) lines.append("element inet ").append(table).append(" internet { ").append(source).append(" }\n");
    var any = new ArrayList<String>();
    var ported = new ArrayList<String>();
    for (var d : egress.destinations()) {
      if (d.loopback()) continue; // relayed inside the sandbox instead
      if (d.port() == 0) any.add(source + " . " + d.cidr());
      else ported.add(source + " . " + d.cidr() + " . " + d.port());
    }
    if (!any.isEmpty()) lines.append("element inet ").append(table).append(" allow { ").append(String.join(", ", any)).append(" }\n");
    if (!ported.isEmpty()) {
      lines.append("element inet ").append(table).append(" allow_port { ").append(String.join(", ", ported)).append(" }\n");
    }
    return lines.toString();
  }

  private static String prefixed(String verb, String lines) {
    return lines.lines().map(l -> verb + l + "\n").collect(java.util.stream.Collectors.joining());
  }

  /** The nftables table of this instance ({@code inet}). */
  String table() {
    return table;
  }

  int resolver() {
    return block + 1;
  }

  private boolean inBlock(InetAddress address) {
    byte[] b = address.getAddress();
    if (b.length != 4) return false;
    int a = ((b[0] & 255) << 24) | ((b[1] & 255) << 16) | ((b[2] & 255) << 8) | (b[3] & 255);
    return (a & (-1 << (32 - BLOCK_PREFIX))) == block;
  }

  private String tableText(int dnsPort) {
    String sandboxes = "\"" + ifPrefix + "*\"";
    String blockCidr = dotted(block) + "/" + BLOCK_PREFIX;
    return """
        table inet %1$s {
          comment "Kiln sandboxes: remove only with the Kiln instance that made it"
          set launched { type ipv4_addr; }
          set internet { type ipv4_addr; }
          set allow { type ipv4_addr . ipv4_addr; flags interval; }
          set allow_port { type ipv4_addr . ipv4_addr . inet_service; flags interval; }
          set forbidden_ports { type inet_service; }
          set sync { type inet_service; }
          set private { type ipv4_addr; flags interval; elements = { %2$s } }
          chain guard {
            type filter hook prerouting priority raw; policy accept;
            iifname %3$s meta nfproto ipv6 drop
            iifname %3$s fib saddr . iif oif missing drop
          }
          chain resolver {
            type nat hook prerouting priority dstnat; policy accept;
            iifname %3$s ip daddr %4$s meta l4proto { tcp, udp } th dport 53 redirect to :%5$d
          }
          chain input {
            type filter hook input priority filter; policy accept;
            iifname %3$s jump to_host
          }
          chain to_host {
            ct state established,related accept
            ip saddr != @launched reject with icmpx type no-route
            meta l4proto { tcp, udp } th dport %5$d ct status dnat accept
            meta l4proto { tcp, udp } th dport @forbidden_ports jump refuse
            ip daddr %6$s jump refuse
            meta l4proto { tcp, udp } ip saddr . ip daddr . th dport @allow_port accept
            jump refuse
          }
          chain forward {
            type filter hook forward priority filter; policy accept;
            iifname %3$s jump from_sandbox
            oifname %3$s ct state established,related accept
            oifname %3$s reject with icmpx type admin-prohibited
          }
          chain from_sandbox {
            ct state established,related accept
            ip saddr != @launched reject with icmpx type no-route
            ip daddr %6$s jump refuse
            meta l4proto { tcp, udp } ip saddr . ip daddr . th dport @allow_port accept
            ip saddr . ip daddr @allow accept
            ip saddr @internet ip daddr != @private accept
            jump refuse
          }
          chain refuse {
            meta l4proto tcp reject with tcp reset
            reject with icmpx type admin-prohibited
          }
          chain egress {
            type nat hook postrouting priority srcnat; policy accept;
            ip saddr %6$s oifname != %3$s masquerade
          }
        }
        """.formatted(table, String.join(", ", PRIVATE_RANGES), sandboxes, dotted(resolver()), dnsPort, blockCidr);
  }

  /** The hash's block, or the next one no route of the host covers yet. */
  private int pickBlock(String hash) {
    int blocks = 1 << (BLOCK_PREFIX - POOL_PREFIX);
    int start = Integer.parseInt(hash.substring(0, 6), 16) % blocks;
    List<long[]> routes = hostRoutes();
    for (int i = 0; i < blocks; i++) {
      int candidate = POOL + (((start + i) % blocks) << (32 - BLOCK_PREFIX));
      boolean taken = false;
      for (long[] r : routes) {
        int mask = (int) Math.min(r[1], BLOCK_PREFIX);
        int m = mask == 0 ? 0 : -1 << (32 - mask);
        if ((candidate & m) == ((int) r[0] & m) && r[1] != 0) taken = true;
      }
      if (!taken) return candidate;
    }
    throw new SandboxException("no free /" + BLOCK_PREFIX + " block in 100.64.0.0/10 for sandbox addresses");
  }

  /** The host's IPv4 routes as {address, prefix} from /proc/net/route (default routes excluded). */
  private static List<long[]> hostRoutes() {
    var routes = new ArrayList<long[]>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/net/route")).stream().skip(1).toList()) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 8) continue;
        long dest = Integer.reverseBytes((int) Long.parseLong(f[1], 16)) & 0xffffffffL;
        int mask = Integer.reverseBytes((int) Long.parseLong(f[7], 16));
        routes.add(new long[] {dest, Integer.bitCount(mask)});
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot read the host's routes: {}", e.toString());
    }
    return routes;
  }

  private static void enableForwarding() {
    try {
      if (Files.readString(IP_FORWARD).trim().equals("1")) return;
      Files.writeString(IP_FORWARD, "1\n");
      log.warn("host change: enabled IPv4 forwarding (net.ipv4.ip_forward=1) so sandboxes can reach the network;"
          + " Kiln leaves it on");
    } catch (IOException e) {
      throw new SandboxException("cannot enable IPv4 forwarding (" + IP_FORWARD + "): " + e.getMessage(), e);
    }
  }

  /** The table and the veths an earlier Kiln on this root left (its sandboxes' namespaces are gone or going). */
  private void removeStale() {
    var r = runQuietly(List.of(nft.toString(), "delete", "table", "inet", table), "");
    if (r.code() == 0) log.info("removed nftables table inet {} left by an earlier run", table);
    try (var links = Files.list(Path.of("/sys/class/net"))) {
      for (Path link : links.toList()) {
        String name = link.getFileName().toString();
        if (name.startsWith(ifPrefix)) runQuietly(List.of(ip.toString(), "link", "del", name), "");
      }
    } catch (IOException e) {
      log.debug("cannot list network interfaces: {}", e.toString());
    }
  }

  static String dotted(int address) {
    return (address >>> 24) + "." + ((address >>> 16) & 255) + "." + ((address >>> 8) & 255) + "." + (address & 255);
  }

  /** Through the long-lived {@code nft -i} while it works, else one {@code nft -f -} per batch. */
  private void nft(String commands) {
    NftShell s = shell;
    if (s != null) {
      try {
        s.run(commands);
        return;
      } catch (NftShell.Refused e) {
        throw new SandboxException("nft failed: " + e.getMessage() + "; input: " + commands.strip(), e);
      } catch (IOException e) {
        log.warn("nft -i stopped ({}); updating the sandbox verdicts with one nft process per update from now on",
            e.getMessage());
        shell = null;
        s.close();
      }
    }
    run(List.of(nft.toString(), "-f", "-"), commands);
  }

  private static void run(List<String> command, String input) {
    var r = runQuietly(command, input);
    if (r.code() != 0) {
      throw new SandboxException(command.getFirst() + " failed (" + r.code() + "): " + r.output() + "; input: " + input.strip());
    }
  }

  private static Os.Result runQuietly(List<String> command, String input) {
    var pb = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.clear();
    env.put("PATH", Os.HELPER_PATH);
    try {
      Process p = pb.start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(input.getBytes(StandardCharsets.UTF_8));
      }
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Os.Result(-1, "timed out");
      }
      return new Os.Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
    } catch (IOException e) {
      return new Os.Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Os.Result(-1, "interrupted");
    }
  }

  @Override
  public void close() {
    NftShell s = shell;
    shell = null;
    if (s != null) s.close();
    var r = runQuietly(List.of(nft.toString(), "delete", "table", "inet", table), "");
    if (r.code() != 0) log.debug("deleting table {}: {}", table, r.output());
    if (dns != null) dns.close();
    try {
      Files.deleteIfExists(resolvConf);
    } catch (IOException ignored) {
      // the root goes too
    }
  }
}
