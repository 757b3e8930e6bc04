package dev.kiln.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * "The internet" for network tests, on this machine only: hosts in network namespaces of their own, each behind
 * a veth pair to the host with a route to its TEST-NET range, running small TCP servers that answer
 * {@code "<name> from <peer address>"}; and a DNS server in the test JVM on 127.0.0.1 that knows a few names
 * (Kiln is pointed at it with {@code --dns-upstream}) and counts the questions it gets. Everything is removed
 * after the class, and whatever an earlier, killed run left is removed first.
 */
public final class OutsideHosts implements BeforeAllCallback, AfterAllCallback {
  /** A host outside: its namespace, the host's side of its link, its address and the ports it serves. */
  public record Host(String name, String namespace, String hostInterface, String hostSide, String address,
      List<Integer> ports) {
    public String at(int port) {
      return address + ":" + port;
    }
  }

  public static final String ALLOWED_NAME = "allowed.kiln.test";
  public static final String DENIED_NAME = "denied.kiln.test";

  private static final String SERVER = """
      import socket, sys, threading
      def serve(port):
          s = socket.socket()
          s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
          s.bind((sys.argv[1], port))
          s.listen(64)
          while True:
              c, peer = s.accept()
              try:
                  c.settimeout(2)
                  try:
                      c.recv(1024)
                  except OSError:
                      pass
                  c.sendall(("%s:%d from %s" % (sys.argv[2], port, peer[0])).encode())
              finally:
                  c.close()
      for p in sys.argv[3:]:
          threading.Thread(target=serve, args=(int(p),), daemon=True).start()
      print("listening", flush=True)
      threading.Event().wait()
      """;

  private final List<Process> servers = new ArrayList<>();
  private final Map<String, AtomicInteger> questions = new ConcurrentHashMap<>();
  private DatagramSocket dns;
  public Host a;
  public Host b;

  @Override
  public void beforeAll(ExtensionContext context) {
    removeLeftovers();
    a = create("out-a", "kiln-e2e-out-a", "kilne2e-a", "203.0.113.1", "203.0.113.10", List.of(8080, 8081));
    b = create("out-b", "kiln-e2e-out-b", "kilne2e-b", "198.51.100.1", "198.51.100.10", List.of(8080));
    startDns();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (dns != null) dns.close();
    for (Process p : servers) {
      p.destroyForcibly();
      try {
        p.waitFor(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    removeLeftovers();
  }

  /** The port Kiln's resolver forwards to ({@code --dns-upstream 127.0.0.1:PORT}). */
  public int dnsPort() {
    return dns.getLocalPort();
  }

  /** How many questions for {@code name} reached the test's DNS server. */
  public int questionsFor(String name) {
    return questions.computeIfAbsent(name, n -> new AtomicInteger()).get();
  }

  private Host create(String name, String namespace, String hostInterface, String hostSide, String address,
      List<Integer> ports) {
    ip("netns", "add", namespace);
    ip("link", "add", hostInterface, "type", "veth", "peer", "name", "eth0", "netns", namespace);
    ip("addr", "add", hostSide + "/24", "dev", hostInterface); // brings the host's route to the range
    ip("link", "set", hostInterface, "up");
    ip("-n", namespace, "addr", "add", address + "/24", "dev", "eth0");
    ip("-n", namespace, "link", "set", "eth0", "up");
    ip("-n", namespace, "link", "set", "lo", "up");
    ip("-n", namespace, "route", "add", "default", "via", hostSide);
    var command = new ArrayList<>(List.of("ip", "netns", "exec", namespace, "/usr/bin/python3", "-c", SERVER,
        address, name));
    ports.forEach(p -> command.add(String.valueOf(p)));
    try {
      Process server = new ProcessBuilder(command).redirectErrorStream(true).start();
      servers.add(server);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (int port : ports) {
      Awaitility.await(name + " listening on " + port).atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(20)).ignoreExceptions()
          .until(() -> {
            try (var s = new Socket()) {
              s.connect(new InetSocketAddress(address, port), 500);
              return true;
            }
          });
    }
    return new Host(name, namespace, hostInterface, hostSide, address, ports);
  }

  private static void removeLeftovers() {
    for (String ns : List.of("kiln-e2e-out-a", "kiln-e2e-out-b")) {
      runQuietly("ip", "netns", "pids", ns).lines().forEach(pid -> runQuietly("kill", "-9", pid.strip()));
      runQuietly("ip", "netns", "del", ns);
    }
    for (String link : List.of("kilne2e-a", "kilne2e-b")) {
      runQuietly("ip", "link", "del", link); // goes with its namespace, unless that never got it
    }
  }

  /** Answers A questions for the two test names; everything else is NXDOMAIN. */
  private void startDns() {
    Map<String, byte[]> records = Map.of(ALLOWED_NAME, new byte[] {(byte) 203, 0, 113, 10},
        DENIED_NAME, new byte[] {(byte) 198, 51, 100, 10});
    try {
      dns = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread.ofVirtual().name("test-dns").start(() -> {
      byte[] buffer = new byte[1500];
      while (!dns.isClosed()) {
        var packet = new DatagramPacket(buffer, buffer.length);
        try {
          dns.receive(packet);
          byte[] answer = answer(java.util.Arrays.copyOf(packet.getData(), packet.getLength()), records);
          if (answer != null) dns.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
        } catch (IOException e) {
          return;
        }
      }
    });
  }

  private byte[] answer(byte[] query, Map<String, byte[]> records) {
    if (query.length < 17) return null;
    var name = new StringBuilder();
    int i = 12;
    while (i < query.length && query[i] != 0) {
      int length = query[i] & 255;
      if (i + 1 + length > query.length) return null;
      if (!name.isEmpty()) name.append('.');
      name.append(new String(query, i + 1, length, StandardCharsets.US_ASCII));
      i += 1 + length;
    }
    int questionEnd = i + 5; // the zero label, QTYPE, QCLASS
    if (questionEnd > query.length) return null;
    String asked = name.toString().toLowerCase(java.util.Locale.ROOT);
    questions.computeIfAbsent(asked, n -> new AtomicInteger()).incrementAndGet();
    int type = ((query[i + 1] & 255) << 8) | (query[i + 2] & 255);
    byte[] address = records.get(asked);
    var out = new java.io.ByteArrayOutputStream();
    out.write(query[0]);
    out.write(query[1]);
    boolean found = address != null && type == 1;
    out.write(0x81); // response, recursion desired
    out.write(address == null ? 0x83 : 0x80); // NXDOMAIN, or no error (no AAAA for a known name)
    out.writeBytes(new byte[] {0, 1, 0, (byte) (found ? 1 : 0), 0, 0, 0, 0});
    out.write(query, 12, questionEnd - 12);
    if (found) {
      out.writeBytes(new byte[] {(byte) 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4});
      out.writeBytes(address);
    }
    return out.toByteArray();
  }

  private static void ip(String... args) {
    var command = new ArrayList<String>();
    command.add("ip");
    command.addAll(List.of(args));
    var result = run(command);
    if (result.code != 0) throw new IllegalStateException(String.join(" ", command) + ": " + result.output);
  }

  private static String runQuietly(String... command) {
    return run(List.of(command)).output;
  }

  private record Result(int code, String output) {}

  private static Result run(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(10, TimeUnit.SECONDS);
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }
}
