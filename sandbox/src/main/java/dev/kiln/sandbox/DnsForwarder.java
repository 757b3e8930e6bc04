package dev.kiln.sandbox;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The resolver sandboxes use: DNS messages are passed unchanged to an upstream server and the answer back, over
 * UDP and TCP on one port of the host. Sandboxes reach it at their resolver address, which nftables redirects
 * here; a query from any other source is dropped, so it is no open resolver for the host's neighbours.
 */
final class DnsForwarder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DnsForwarder.class);
  private static final int TIMEOUT_MILLIS = 2_000;
  private static final int MAX_MESSAGE = 65_535;

  private final List<InetSocketAddress> upstreams;
  private final Predicate<InetAddress> client;
  private final DatagramChannel udp;
  private final ServerSocketChannel tcp;
  private volatile boolean closed;

  /**
   * @param upstreams servers tried in order
   * @param client which source addresses are answered (the sandboxes')
   */
  DnsForwarder(List<InetSocketAddress> upstreams, Predicate<InetAddress> client) {
    if (upstreams.isEmpty()) throw new SandboxException("no DNS server to forward to (none in /etc/resolv.conf)");
    this.upstreams = List.copyOf(upstreams);
    this.client = client;
    DatagramChannel u = null;
    ServerSocketChannel t = null;
    try {
      // The same port number for both protocols; a port taken for TCP by someone else means another try.
      for (int attempt = 0; t == null; attempt++) {
        u = DatagramChannel.open(java.net.StandardProtocolFamily.INET).bind(new InetSocketAddress(0));
        int port = ((InetSocketAddress) u.getLocalAddress()).getPort();
        try {
          t = ServerSocketChannel.open(java.net.StandardProtocolFamily.INET).bind(new InetSocketAddress(port), 64);
        } catch (IOException taken) {
          u.close();
          if (attempt > 20) throw taken;
        }
      }
    } catch (IOException e) {
      throw new SandboxException("cannot open the sandboxes' DNS port: " + e.getMessage(), e);
    }
    this.udp = u;
    this.tcp = t;
    Thread.ofVirtual().name("dns-udp").start(this::udpLoop);
    Thread.ofVirtual().name("dns-tcp").start(this::tcpLoop);
  }

  /** The name servers of the host's {@code /etc/resolv.conf}, on port 53. */
  static List<InetSocketAddress> hostUpstreams() {
    var servers = new ArrayList<InetSocketAddress>();
    try {
      for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
        String[] f = line.trim().split("\\s+");
        if (f.length >= 2 && f[0].equals("nameserver") && f[1].indexOf(':') < 0) {
          servers.add(new InetSocketAddress(InetAddress.ofLiteral(f[1]), 53));
        }
      }
    } catch (IOException | IllegalArgumentException e) {
      log.warn("cannot read the host's DNS servers from /etc/resolv.conf: {}", e.toString());
    }
    return servers;
  }

  /** Parses {@code address[:port]} (port 53 when absent). */
  static InetSocketAddress upstream(String text) {
    String t = text.strip();
    int colon = t.lastIndexOf(':');
    String host = colon > 0 && t.indexOf(':') == colon ? t.substring(0, colon) : t;
    int port = colon > 0 && t.indexOf(':') == colon ? Integer.parseInt(t.substring(colon + 1)) : 53;
    return new InetSocketAddress(InetAddress.ofLiteral(host), port);
  }

  int port() {
    return ((InetSocketAddress) udp.socket().getLocalSocketAddress()).getPort();
  }

  private void udpLoop() {
    while (!closed) {
      var query = ByteBuffer.allocate(MAX_MESSAGE);
      InetSocketAddress from;
      try {
        from = (InetSocketAddress) udp.receive(query);
      } catch (IOException e) {
        if (!closed) log.warn("DNS forwarder stopped: {}", e.toString());
        return;
      }
      if (from == null || !client.test(from.getAddress())) continue;
      query.flip();
      Thread.ofVirtual().start(() -> {
        byte[] answer = askUdp(query);
        if (answer == null) return;
        try {
          udp.send(ByteBuffer.wrap(answer), from);
        } catch (IOException e) {
          log.debug("cannot answer {}: {}", from, e.toString());
        }
      });
    }
  }

  private byte[] askUdp(ByteBuffer query) {
    for (var upstream : upstreams) {
      try (var socket = new java.net.DatagramSocket()) {
        socket.setSoTimeout(TIMEOUT_MILLIS);
        byte[] q = new byte[query.remaining()];
        query.duplicate().get(q);
        socket.send(new java.net.DatagramPacket(q, q.length, upstream));
        var reply = new java.net.DatagramPacket(new byte[MAX_MESSAGE], MAX_MESSAGE);
        while (true) {
          socket.receive(reply);
          if (reply.getSocketAddress().equals(upstream) && sameId(q, reply.getData())) {
            return java.util.Arrays.copyOf(reply.getData(), reply.getLength());
          }
        }
      } catch (SocketTimeoutException e) {
        log.debug("DNS server {} did not answer in time", upstream);
      } catch (IOException e) {
        log.debug("DNS server {}: {}", upstream, e.toString());
      }
    }
    return null;
  }

  private static boolean sameId(byte[] query, byte[] reply) {
    return query.length >= 2 && query[0] == reply[0] && query[1] == reply[1];
  }

  private void tcpLoop() {
    while (!closed) {
      SocketChannel connection;
      try {
        connection = tcp.accept();
      } catch (IOException e) {
        if (!closed) log.warn("DNS forwarder (TCP) stopped: {}", e.toString());
        return;
      }
      Thread.ofVirtual().start(() -> serveTcp(connection));
    }
  }

  /** DNS over TCP: each message is preceded by its length in two bytes; one upstream connection per message. */
  private void serveTcp(SocketChannel connection) {
    try (connection) {
      if (!client.test(((InetSocketAddress) connection.getRemoteAddress()).getAddress())) return;
      var socket = connection.socket();
      socket.setSoTimeout(10_000);
      var in = new java.io.DataInputStream(socket.getInputStream());
      var out = socket.getOutputStream();
      while (true) {
        int length;
        try {
          length = in.readUnsignedShort();
        } catch (java.io.EOFException done) {
          return;
        }
        byte[] query = in.readNBytes(length);
        byte[] answer = askTcp(query);
        if (answer == null) return;
        out.write(new byte[] {(byte) (answer.length >> 8), (byte) answer.length});
        out.write(answer);
        out.flush();
      }
    } catch (IOException e) {
      log.debug("DNS over TCP: {}", e.toString());
    }
  }

  private byte[] askTcp(byte[] query) {
    for (var upstream : upstreams) {
      try (var socket = new java.net.Socket()) {
        socket.connect(upstream, TIMEOUT_MILLIS);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        var out = socket.getOutputStream();
        out.write(new byte[] {(byte) (query.length >> 8), (byte) query.length});
        out.write(query);
        out.flush();
        var in = new java.io.DataInputStream(socket.getInputStream());
        return in.readNBytes(in.readUnsignedShort());
      } catch (IOException e) {
        log.debug("DNS server {} (TCP): {}", upstream, e.toString());
      }
    }
    return null;
  }

  @Override
  public void close() {
    closed = true;
    try {
      udp.close();
    } catch (IOException ignored) {
      // closing
    }
    try {
      tcp.close();
    } catch (IOException ignored) {
      // closing
    }
  }
}
