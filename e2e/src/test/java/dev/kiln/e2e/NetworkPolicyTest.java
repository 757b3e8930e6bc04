package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.AwsCli;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.OutsideHosts;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/**
 * Per-function network policy (KILN_NETWORK, node default internet), checked through the aws CLI against hosts the
 * test makes itself: two "outside" hosts in network namespaces at TEST-NET addresses, a DNS server Kiln forwards
 * to, and services on this host's loopback. Nothing else is ever contacted.
 */
class NetworkPolicyTest extends InvokeTestBase {
  @RegisterExtension static final OutsideHosts OUTSIDE = new OutsideHosts();

  /** Tries what the event lists and reports each outcome, with errno and time taken. */
  private static final String PROBE = """
      import socket, threading, time

      LISTENERS = []


      def connect(target):
          host, port = target.rsplit(":", 1)
          started = time.time()
          try:
              s = socket.create_connection((host, int(port)), timeout=4)
              s.settimeout(4)
              s.sendall(b"hello")
              reply = s.recv(200).decode("latin-1")
              s.close()
              return {"ok": True, "reply": reply, "ms": int((time.time() - started) * 1000)}
          except OSError as e:
              return {"ok": False, "errno": e.errno or 0, "error": "%s: %s" % (type(e).__name__, e),
                      "ms": int((time.time() - started) * 1000)}


      def resolve(name):
          try:
              return {"ok": True, "address": socket.gethostbyname(name)}
          except OSError as e:
              return {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}


      def serve(s):
          while True:
              c, _ = s.accept()
              c.sendall(b"sandbox")
              c.close()


      def lambda_handler(event, context):
          out = {}
          for target in event.get("connect", []):
              out[target] = connect(target)
          for name in event.get("resolve", []):
              out[name] = resolve(name)
          if "listen" in event:
              s = socket.socket()
              s.bind(("0.0.0.0", event["listen"]))
              s.listen(8)
              LISTENERS.append(s)
              threading.Thread(target=serve, args=(s,), daemon=True).start()
              u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
              u.connect(("203.0.113.10", 9))  # picks the source address; sends nothing
              out["address"] = u.getsockname()[0]
              u.close()
          out["resolv.conf"] = open("/etc/resolv.conf").read()
          return out
      """;

  private ServerSocket listedService;
  private ServerSocket unlistedService;
  private ServerSocket hostWide;
  private final AtomicInteger hostConnections = new AtomicInteger();

  @Override
  protected List<String> serverArgs() {
    return List.of("--dns-upstream", "127.0.0.1:" + OUTSIDE.dnsPort());
  }

  @Override
  protected boolean snapshots() {
    return true; // forked Python environments are checked too; the other functions set KILN_SNAPSHOT=off
  }

  @BeforeAll
  void requireCrunAndStartHostServices() throws IOException {
    String out = server.output();
    if (!out.contains("sandboxes: crun")) {
      String message = "The server does not run crun sandboxes, so network policy cannot be tested here:\n" + out;
      if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(message);
      Assumptions.abort(message);
    }
    assertThat(out).as("Kiln's sandbox network").contains("sandbox network: addresses");
    listedService = service(InetAddress.getLoopbackAddress(), "listed");
    unlistedService = service(InetAddress.getLoopbackAddress(), "unlisted");
    hostWide = service(InetAddress.getByName("0.0.0.0"), "host");
  }

  @AfterAll
  void stopHostServices() throws IOException {
    for (var s : new ServerSocket[] {listedService, unlistedService, hostWide}) {
      if (s != null) s.close();
    }
  }

  private ServerSocket service(InetAddress address, String name) throws IOException {
    var socket = new ServerSocket(0, 50, address);
    Thread.ofVirtual().start(() -> {
      while (!socket.isClosed()) {
        try (Socket c = socket.accept()) {
          hostConnections.incrementAndGet();
          c.getOutputStream().write((name + " on the host").getBytes());
        } catch (IOException e) {
          return;
        }
      }
    });
    return socket;
  }

  /** Creates the probe through the aws CLI with these environment variables (JSON members) and waits for Active. */
  private String probe(String prefix, String variables) {
    String name = uniqueName(prefix);
    cli.lambda("create-function", "--function-name", name, "--runtime", "python3.12", "--handler",
        "lambda_function.lambda_handler", "--role", ROLE, "--timeout", "30", "--memory-size", "256",
        "--zip-file", zipFileArg(Functions.python(PROBE)),
        "--environment", "{\"Variables\":{" + variables + "}}").assertOk();
    awaitActive(name);
    return name;
  }

  private JsonNode run(String function, String event) {
    Invocation call = cliInvoke(function, event);
    assertThat(call.status()).isEqualTo(200);
    assertThat(call.functionError()).as("function error: %s", call.payload()).isNull();
    return json(call.payload());
  }

  private static String list(List<String> values) {
    return "[" + String.join(",", values.stream().map(v -> "\"" + v + "\"").toList()) + "]";
  }

  private static void assertReached(JsonNode result, String target, String replyStart) {
    assertThat(result.path(target).path("ok").asBoolean()).as("%s: %s", target, result.path(target)).isTrue();
    assertThat(result.path(target).path("reply").asString()).as(target).startsWith(replyStart);
  }

  private static void assertRefusedQuickly(JsonNode result, String target) {
    JsonNode r = result.path(target);
    assertThat(r.path("ok").asBoolean()).as("%s: %s", target, r).isFalse();
    // ECONNREFUSED, ENETUNREACH or EHOSTUNREACH at once: never a connection that hangs until a timeout
    assertThat(r.path("errno").asInt()).as("%s: %s", target, r).isIn(111, 101, 113);
    assertThat(r.path("ms").asInt()).as("%s took", target).isLessThan(2000);
  }

  /** Every IPv4 address of this host but loopback. */
  private static List<String> hostAddresses() throws IOException {
    var addresses = new ArrayList<String>();
    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      for (InetAddress address : Collections.list(nic.getInetAddresses())) {
        if (address instanceof Inet4Address && !address.isLoopbackAddress()) addresses.add(address.getHostAddress());
      }
    }
    return addresses;
  }

  @Test
  void internet_by_default_reaches_public_hosts_and_dns_but_never_kiln_or_the_host() throws IOException {
    String function = probe("net-default", "\"KILN_SNAPSHOT\":\"off\"");
    var targets = new ArrayList<>(List.of(OUTSIDE.a.at(8080), OUTSIDE.b.at(8080),
        "127.0.0.1:" + server.port(), "127.0.0.1:" + listedService.getLocalPort()));
    for (String address : hostAddresses()) {
      targets.add(address + ":" + server.port());
      targets.add(address + ":" + hostWide.getLocalPort());
    }
    int questionsBefore = OUTSIDE.questionsFor(OutsideHosts.ALLOWED_NAME);
    int hostConnectionsBefore = hostConnections.get();
    JsonNode result = run(function, "{\"connect\":" + list(targets) + ",\"resolve\":[\""
        + OutsideHosts.ALLOWED_NAME + "\",\"unknown.kiln.test\"]}");

    assertReached(result, OUTSIDE.a.at(8080), "out-a:8080 from ");
    assertReached(result, OUTSIDE.b.at(8080), "out-b:8080 from ");
    for (String target : targets.subList(2, targets.size())) {
      assertRefusedQuickly(result, target); // Kiln's API, the host's loopback and every address of the host
    }
    assertThat(hostConnections.get() - hostConnectionsBefore).as("connections that reached a service of the host")
        .isZero();

    assertThat(result.path(OutsideHosts.ALLOWED_NAME).path("address").asString()).isEqualTo(OUTSIDE.a.address());
    assertThat(result.path("unknown.kiln.test").path("ok").asBoolean()).isFalse();
    assertThat(OUTSIDE.questionsFor(OutsideHosts.ALLOWED_NAME)).as("questions that reached the test's DNS server")
        .isGreaterThan(questionsBefore);
    assertThat(result.path("resolv.conf").asString()).startsWith("nameserver 100.");
  }

  @Test
  void an_allow_list_reaches_only_what_it_lists_and_never_kiln() {
    int kiln = server.port();
    String function = probe("net-allow", "\"KILN_SNAPSHOT\":\"off\",\"KILN_NETWORK\":\"" + OUTSIDE.a.at(8080)
        + ",127.0.0.1:" + listedService.getLocalPort() + ",127.0.0.1:" + kiln + "\"");
    var targets = List.of(OUTSIDE.a.at(8080), OUTSIDE.a.at(8081), OUTSIDE.b.at(8080),
        "127.0.0.1:" + listedService.getLocalPort(), "127.0.0.1:" + unlistedService.getLocalPort(), "127.0.0.1:" + kiln);
    JsonNode result = run(function, "{\"connect\":" + list(targets) + ",\"resolve\":[\"" + OutsideHosts.DENIED_NAME
        + "\"]}");

    assertReached(result, OUTSIDE.a.at(8080), "out-a:8080 from ");
    assertRefusedQuickly(result, OUTSIDE.a.at(8081));
    assertRefusedQuickly(result, OUTSIDE.b.at(8080));
    assertReached(result, "127.0.0.1:" + listedService.getLocalPort(), "listed on the host");
    assertRefusedQuickly(result, "127.0.0.1:" + unlistedService.getLocalPort());
    assertRefusedQuickly(result, "127.0.0.1:" + kiln); // listed, but Kiln's API is never reachable
    // names resolve (the address may still be out of reach)
    assertThat(result.path(OutsideHosts.DENIED_NAME).path("address").asString()).isEqualTo(OUTSIDE.b.address());
  }

  @Test
  void none_reaches_nothing_not_even_dns() {
    String function = probe("net-none", "\"KILN_SNAPSHOT\":\"off\",\"KILN_NETWORK\":\"none\"");
    JsonNode result = run(function, "{\"connect\":[\"" + OUTSIDE.a.at(8080) + "\",\"127.0.0.1:"
        + listedService.getLocalPort() + "\"],\"resolve\":[\"" + OutsideHosts.ALLOWED_NAME + "\"]}");
    assertThat(result.path(OUTSIDE.a.at(8080)).path("errno").asInt()).as("%s", result).isEqualTo(101); // ENETUNREACH
    assertRefusedQuickly(result, OUTSIDE.a.at(8080));
    assertRefusedQuickly(result, "127.0.0.1:" + listedService.getLocalPort());
    assertThat(result.path(OutsideHosts.ALLOWED_NAME).path("ok").asBoolean()).isFalse();
  }

  @Test
  void sandboxes_and_the_host_stay_out_of_reach_even_when_every_range_is_listed() throws IOException {
    String listener = probe("net-listener", "\"KILN_SNAPSHOT\":\"off\"");
    String address = run(listener, "{\"listen\":7000}").path("address").asString();
    assertThat(address).startsWith("100.");
    String gateway = address.substring(0, address.lastIndexOf('.') + 1)
        + (Integer.parseInt(address.substring(address.lastIndexOf('.') + 1)) - 1);
    var targets = new ArrayList<>(List.of(address + ":7000", gateway + ":" + hostWide.getLocalPort(),
        gateway + ":" + server.port()));
    for (String host : hostAddresses()) targets.add(host + ":" + hostWide.getLocalPort());
    int hostConnectionsBefore = hostConnections.get();
    for (String policy : List.of("internet", "internet,100.64.0.0/10", "0.0.0.0/0")) {
      String caller = probe("net-caller", "\"KILN_SNAPSHOT\":\"off\",\"KILN_NETWORK\":\"" + policy + "\"");
      JsonNode result = run(caller, "{\"connect\":" + list(targets) + "}");
      for (String target : targets) assertRefusedQuickly(result, target);
    }
    assertThat(hostConnections.get() - hostConnectionsBefore).as("connections that reached the host").isZero();
  }

  @Test
  void bad_values_and_vpc_config_are_refused_naming_kiln_network() {
    String name = uniqueName("net-bad");
    AwsCli.Result bad = cli.lambda("create-function", "--function-name", name, "--runtime", "python3.12",
        "--handler", "lambda_function.lambda_handler", "--role", ROLE, "--zip-file", zipFileArg(Functions.python(PROBE)),
        "--environment", "{\"Variables\":{\"KILN_NETWORK\":\"everywhere\"}}");
    bad.assertError("InvalidParameterValueException");
    assertThat(bad.stderr()).contains("KILN_NETWORK").contains("everywhere");

    AwsCli.Result vpc = cli.lambda("create-function", "--function-name", name, "--runtime", "python3.12",
        "--handler", "lambda_function.lambda_handler", "--role", ROLE, "--zip-file", zipFileArg(Functions.python(PROBE)),
        "--vpc-config", "SubnetIds=subnet-0abc,SecurityGroupIds=sg-0abc");
    vpc.assertError("InvalidParameterValueException");
    assertThat(vpc.stderr()).contains("VpcConfig").contains("KILN_NETWORK");

    String existing = probe("net-update", "\"KILN_SNAPSHOT\":\"off\"");
    cli.lambda("update-function-configuration", "--function-name", existing, "--environment",
        "{\"Variables\":{\"KILN_NETWORK\":\"10.0.0.1/8\"}}").assertError("InvalidParameterValueException");
    cli.lambda("update-function-configuration", "--function-name", existing, "--vpc-config",
        "SubnetIds=subnet-0abc,SecurityGroupIds=sg-0abc").assertError("InvalidParameterValueException");
    // An empty VpcConfig (what clients send to detach a VPC) asks for nothing.
    cli.lambda("update-function-configuration", "--function-name", existing, "--vpc-config",
        "SubnetIds=[],SecurityGroupIds=[]").assertOk();
  }

  @Test
  void forked_python_environments_get_the_same_policy() {
    int zygotesBefore = workerStats().path("zygotes").asInt();
    String function = probe("net-fork", "\"KILN_NETWORK\":\"" + OUTSIDE.a.at(8080) + ",127.0.0.1:"
        + listedService.getLocalPort() + "\"");
    org.awaitility.Awaitility.await("zygote of " + function).atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> workerStats().path("zygotes").asInt() > zygotesBefore);
    Invocation call = cliInvoke(function, "{\"connect\":[\"" + OUTSIDE.a.at(8080) + "\",\"" + OUTSIDE.b.at(8080)
        + "\",\"127.0.0.1:" + listedService.getLocalPort() + "\",\"127.0.0.1:" + server.port() + "\"],\"resolve\":[\""
        + OutsideHosts.ALLOWED_NAME + "\"]}", "--log-type", "Tail");
    assertThat(call.log()).as("a forked (restored) environment").contains("Restore Duration:");
    JsonNode result = json(call.payload());
    assertReached(result, OUTSIDE.a.at(8080), "out-a:8080 from ");
    assertRefusedQuickly(result, OUTSIDE.b.at(8080));
    assertReached(result, "127.0.0.1:" + listedService.getLocalPort(), "listed on the host");
    assertRefusedQuickly(result, "127.0.0.1:" + server.port());
    assertThat(result.path(OutsideHosts.ALLOWED_NAME).path("address").asString()).isEqualTo(OUTSIDE.a.address());
  }
}
