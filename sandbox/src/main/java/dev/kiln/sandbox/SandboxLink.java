package dev.kiln.sandbox;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sandbox's place in the {@link SandboxNetwork}: its veth link, the policy applied at launch, and the relays to
 * the host-loopback services that policy lists (listening at the same address and port inside the sandbox).
 */
final class SandboxLink implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxLink.class);

  private final SandboxNetwork network;
  private final SandboxNetwork.Link link;
  /** A process in the sandbox's network namespace, asked when a relay must be opened there. */
  private final java.util.function.LongSupplier pidInNamespace;
  private final String id;
  private final List<RuntimeApiRelay> services = new ArrayList<>();
  private Egress applied = Egress.NONE;
  private boolean closed;

  private SandboxLink(SandboxNetwork network, SandboxNetwork.Link link, java.util.function.LongSupplier pidInNamespace,
      String id) {
    this.network = network;
    this.link = link;
    this.pidInNamespace = pidInNamespace;
    this.id = id;
  }

  /**
   * Links the network namespace of {@code pid} (sandbox {@code id}); it reaches nothing until {@link #apply}.
   * {@code pidInNamespace} names a process in that namespace later, at launch: {@code pid} may have ended by then
   * (a forked environment's first child does).
   */
  static SandboxLink connect(SandboxNetwork network, long pid, java.util.function.LongSupplier pidInNamespace,
      String id) {
    var link = network.reserve();
    try {
      network.connect(link, pid);
    } catch (RuntimeException e) {
      network.release(link, Egress.NONE);
      throw e;
    }
    return new SandboxLink(network, link, pidInNamespace, id);
  }

  /** Puts {@code egress} in force (once, at launch). */
  synchronized void apply(Egress egress) {
    if (closed) throw new SandboxException("sandbox " + id + " is closed");
    if (!applied.none()) throw new IllegalStateException("sandbox " + id + " has its network policy already");
    network.apply(link, egress);
    applied = egress;
    for (var d : egress.destinations()) {
      if (!d.loopback()) continue;
      if (network.forbidden(d.port()) || d.port() == CrunSandbox.RUNTIME_API_PORT) {
        log.warn("sandbox {}: {}:{} is never reachable from a function (Kiln's own port)", id,
            SandboxNetwork.dotted(d.address()), d.port());
        continue;
      }
      try {
        InetAddress address = InetAddress.getByAddress(new byte[] {
            (byte) (d.address() >>> 24), (byte) (d.address() >>> 16), (byte) (d.address() >>> 8), (byte) d.address()});
        var at = new InetSocketAddress(address, d.port());
        services.add(new RuntimeApiRelay(NetNs.listen(pidInNamespace.getAsLong(), at), at, id + "-" + d.port()));
      } catch (IOException e) {
        throw new SandboxException("cannot open " + SandboxNetwork.dotted(d.address()) + ":" + d.port()
            + " in sandbox " + id + ": " + e.getMessage(), e);
      }
    }
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    services.forEach(RuntimeApiRelay::close);
    network.release(link, applied);
  }
}
