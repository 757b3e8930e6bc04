package dev.kiln.sandbox;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries a sandbox's Runtime API connections (or those to a listed host-loopback service) from a TCP listener (inside the sandbox's network namespace,
 * or on the host's loopback) to the Unix socket the worker listens on: for each accepted connection it
 * connects to the socket and copies bytes both ways, on virtual threads. A connection made before the
 * worker listens is closed at once (as a refused connection would be).
 */
final class RuntimeApiRelay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RuntimeApiRelay.class);

  private final ServerSocketChannel server;
  private final java.net.SocketAddress socket;
  private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  RuntimeApiRelay(ServerSocketChannel server, Path socket, String name) {
    this(server, UnixDomainSocketAddress.of(socket), name);
  }

  /** Also relays to a TCP service: a host-loopback service a sandbox's network policy lists. */
  RuntimeApiRelay(ServerSocketChannel server, java.net.SocketAddress target, String name) {
    this.server = server;
    this.socket = target;
    Thread.ofVirtual().name("runtime-api-relay-" + name).start(this::acceptLoop);
  }

  /** A listener on a free port of the host's 127.0.0.1. */
  static ServerSocketChannel listenOnHostLoopback() throws IOException {
    ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.INET);
    try {
      ch.bind(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 128);
      return ch;
    } catch (IOException e) {
      ch.close();
      throw e;
    }
  }

  int port() throws IOException {
    return ((InetSocketAddress) server.getLocalAddress()).getPort();
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel tcp;
      try {
        tcp = server.accept();
      } catch (IOException e) {
        if (!closed) log.debug("relay for {} stopped accepting: {}", socket, e.toString());
        return;
      }
      Thread.ofVirtual().start(() -> serve(tcp));
    }
  }

  private void serve(SocketChannel tcp) {
    open.add(tcp);
    SocketChannel unix = null;
    try {
      try {
        tcp.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
        unix = SocketChannel.open(socket);
      } catch (IOException e) {
        log.debug("runtime API socket {} not reachable: {}", socket, e.toString());
        return;
      }
      open.add(unix);
      SocketChannel up = unix;
      Thread back = Thread.ofVirtual().start(() -> copy(up, tcp));
      copy(tcp, unix);
      back.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closeQuietly(tcp);
      if (unix != null) closeQuietly(unix);
    }
  }

  private void copy(SocketChannel from, SocketChannel to) {
    ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
    try {
      while (from.read(buf) >= 0) {
        buf.flip();
        while (buf.hasRemaining()) to.write(buf);
        buf.clear();
      }
      to.shutdownOutput();
    } catch (IOException e) {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private void closeQuietly(SocketChannel ch) {
    open.remove(ch);
    try {
      ch.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close(); // also releases the sandbox's network namespace, which the socket keeps alive
    } catch (IOException ignored) {
      // closing
    }
    for (SocketChannel ch : Set.copyOf(open)) closeQuietly(ch);
  }
}
