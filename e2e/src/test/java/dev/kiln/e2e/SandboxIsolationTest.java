package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.FunctionZip;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.CreateFunctionRequest;
import tools.jackson.databind.JsonNode;

/**
 * What a function must not be able to do in a crun sandbox: it runs as nobody without
 * capabilities, writes only /tmp, cannot read another function's code or /tmp, cannot see host
 * processes, cannot reach the host network, gets only its own invocations from its Runtime API,
 * and is held to its memory size. The probe is a Python function that tries what the event says
 * and reports what happened.
 */
class SandboxIsolationTest extends InvokeTestBase {
  private static final String PROBE =
      """
      import os
      import socket
      import time
      import uuid

      ENV_ID = str(uuid.uuid4())
      SKIP = {"/proc", "/sys", "/dev", "/usr"}


      def attempt(fn):
          try:
              return {"ok": True, "value": fn()}
          except Exception as e:
              return {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}


      def write(path):
          with open(path, "w") as f:
              f.write("probe")
          return path


      def read(path):
          with open(path, "rb") as f:
              return f.read(4096).decode("latin-1")


      def connect(host, port):
          s = socket.create_connection((host, port), timeout=1.5)
          s.close()
          return "connected"


      def next_from_runtime_api(wait):
          s = socket.create_connection(("127.0.0.1", 9001), timeout=wait)
          s.settimeout(wait)
          s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: 127.0.0.1:9001\\r\\n\\r\\n")
          try:
              data = b""
              while True:
                  chunk = s.recv(65536)
                  if not chunk:
                      break
                  data += chunk
              return data.decode("latin-1")
          finally:
              s.close()


      def lambda_handler(event, context):
          action = event.get("action")
          out = {"envId": "%s-%d" % (ENV_ID, os.getpid())}
          if action == "identity":
              pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
              cmdlines = {}
              for p in pids:
                  r = attempt(lambda p=p: read("/proc/%d/cmdline" % p).replace("\\0", " "))
                  cmdlines[str(p)] = r.get("value", r.get("error"))
              status = read("/proc/self/status")
              out.update({
                  "uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(), "groups": os.getgroups(),
                  "status": dict(line.split(":\\t", 1) for line in status.splitlines() if ":\\t" in line),
                  "pids": pids, "cmdlines": cmdlines, "env": dict(os.environ),
                  "cgroupDirs": [d for d in attempt(lambda: os.listdir("/sys/fs/cgroup/memory")).get("value", [])
                                 if os.path.isdir("/sys/fs/cgroup/memory/" + d)],
                  "memoryLimit": attempt(lambda: read("/sys/fs/cgroup/memory/memory.limit_in_bytes").strip()),
                  "memoryMax": attempt(lambda: read("/sys/fs/cgroup/memory.max").strip()),
              })
              st = os.statvfs("/tmp")
              out["tmpBytes"] = st.f_blocks * st.f_frsize
          elif action == "write":
              for path in event["paths"]:
                  out[path] = attempt(lambda path=path: write(path))
          elif action == "read":
              for path in event["paths"]:
                  out[path] = attempt(lambda path=path: read(path))
          elif action == "list":
              for path in event["paths"]:
                  out[path] = attempt(lambda path=path: sorted(os.listdir(path)))
          elif action == "find":
              found = []
              for root in event["roots"]:
                  for dirpath, dirnames, filenames in os.walk(root):
                      dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in SKIP]
                      found += [os.path.join(dirpath, f) for f in filenames + dirnames if event["needle"] in f]
              out["found"] = found
          elif action == "connect":
              for target in event["targets"]:
                  host, port = target.rsplit(":", 1)
                  out[target] = attempt(lambda host=host, port=port: connect(host, int(port)))
          elif action == "next":
              out["next"] = attempt(lambda: next_from_runtime_api(event["wait"]))
          elif action == "sleep":
              time.sleep(event["s"])
          elif action == "allocate":
              keep = [b"\\x01" * (1024 * 1024) for _ in range(event["mb"])]
              out["allocated"] = len(keep)
          return out
      """;

  private String probe;

  @BeforeAll
  void requireCrun() {
    String out = server.output();
    if (!out.contains("sandboxes: crun")) {
      String message =
          "The server does not run crun sandboxes (its ready line lacks 'sandboxes: crun'), so sandbox isolation"
              + " cannot be tested here. crun needs root on Linux with crun installed (`./kiln test` installs it)."
              + " Server output:\n"
              + out;
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        Assertions.fail(message + "\nCI=true: failing instead of skipping.");
      }
      Assumptions.abort(message);
    }
    probe = deploy("probe", "python3.12", "lambda_function.lambda_handler", Functions.python(PROBE));
  }

  private JsonNode run(String function, String event) {
    return invoke(function, event).ok();
  }

  private String probeFunction(String prefix, Consumer<CreateFunctionRequest.Builder> extra) {
    return deploy(prefix, "python3.12", "lambda_function.lambda_handler", Functions.python(PROBE), extra);
  }

  private static String jsonList(List<String> values) {
    return "[" + String.join(",", values.stream().map(v -> "\"" + v.replace("\"", "\\\"") + "\"").toList()) + "]";
  }

  @Test
  void functions_run_as_nobody_without_capabilities_or_host_environment() {
    JsonNode id = run(probe, "{\"action\":\"identity\"}");
    assertThat(id.path("uid").asInt()).isEqualTo(65534);
    assertThat(id.path("euid").asInt()).isEqualTo(65534);
    assertThat(id.path("gid").asInt()).isEqualTo(65534);
    JsonNode status = id.path("status");
    for (String cap : List.of("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")) {
      assertThat(status.path(cap).asString().strip()).as(cap).isEqualTo("0000000000000000");
    }
    assertThat(status.path("NoNewPrivs").asString().strip()).isEqualTo("1");

    JsonNode env = id.path("env");
    List<String> names = new ArrayList<>();
    env.propertyNames().forEach(names::add);
    assertThat(names).as("no Kiln or host variables leak in").noneMatch(n -> n.startsWith("KILN") || n.equals("JAVA_HOME")
        || n.equals("SUDO_USER") || n.equals("MAVEN_HOME") || n.equals("CI"));
    String dataDir = server.dataDir().toString();
    env.properties().forEach(e -> assertThat(e.getValue().asString()).as(e.getKey()).doesNotContain(dataDir));
    assertThat(env.path("HOME").asString("")).isNotEqualTo("/root");
  }

  @Test
  void only_tmp_is_writable_and_it_has_the_ephemeral_storage_size() {
    JsonNode writes =
        run(
            probe,
            "{\"action\":\"write\",\"paths\":"
                + jsonList(
                    List.of(
                        "/var/task/new.txt",
                        "/var/task/lambda_function.py",
                        "/var/runtime/x",
                        "/etc/kiln-probe",
                        "/usr/kiln-probe",
                        "/kiln-probe",
                        "/opt/kiln-probe",
                        "/tmp/kiln-probe"))
                + "}");
    writes
        .properties()
        .forEach(
            e -> {
              if (e.getKey().equals("envId")) {
                return;
              }
              boolean shouldWork = e.getKey().startsWith("/tmp/");
              assertThat(e.getValue().path("ok").asBoolean())
                  .as("write %s: %s", e.getKey(), e.getValue())
                  .isEqualTo(shouldWork);
            });

    String big =
        probeFunction("probe-storage", b -> b.ephemeralStorage(s -> s.size(1024)));
    long tmpBytes = run(big, "{\"action\":\"identity\"}").path("tmpBytes").asLong();
    assertThat(tmpBytes).as("/tmp size with EphemeralStorage 1024 MB").isEqualTo(1024L * 1024 * 1024);
    assertThat(run(probe, "{\"action\":\"identity\"}").path("tmpBytes").asLong())
        .as("/tmp size with the default 512 MB")
        .isEqualTo(512L * 1024 * 1024);
  }

  @Test
  void a_function_cannot_read_another_functions_code_or_the_servers_files() throws IOException {
    String secret = "secret-" + UUID.randomUUID();
    String other =
        deploy(
            "victim",
            "nodejs22.x",
            "index.handler",
            FunctionZip.create()
                .file("index.js", "exports.handler = async () => 'victim';\n")
                .file(secret + ".txt", "the secret is " + secret)
                .bytes());
    assertThat(invoke(other, "{}").ok().asString()).isEqualTo("victim");

    // Where the server keeps the victim's code on the host (its code cache and store).
    List<String> hostCopies;
    try (Stream<Path> walk = Files.walk(server.dataDir())) {
      hostCopies = walk.filter(p -> p.getFileName().toString().equals(secret + ".txt")).map(Path::toString).toList();
    }
    assertThat(hostCopies).as("the victim's extracted code on the host").isNotEmpty();

    List<String> paths = new ArrayList<>();
    for (String host : hostCopies) {
      paths.add(host);
      paths.add("/proc/1/root" + host);
      paths.add("/proc/self/root" + host);
    }
    Path dataDir = server.dataDir();
    paths.add(dataDir.resolve("credentials").toString());
    paths.add(dataDir.resolve("kiln.db").toString());
    paths.add("/proc/1/root" + dataDir.resolve("credentials"));
    paths.add("/var/task/" + secret + ".txt");
    paths.add("/root/.aws/credentials");
    paths.add("/etc/shadow");
    JsonNode reads = run(probe, "{\"action\":\"read\",\"paths\":" + jsonList(paths) + "}");
    for (String path : paths) {
      JsonNode r = reads.path(path);
      assertThat(r.path("ok").asBoolean()).as("read %s from another function: %s", path, r).isFalse();
    }

    JsonNode lists = run(probe, "{\"action\":\"list\",\"paths\":" + jsonList(List.of(dataDir.toString(), "/var/task")) + "}");
    assertThat(lists.path(dataDir.toString()).path("ok").asBoolean()).as("list the data dir: %s", lists).isFalse();
    assertThat(lists.path("/var/task").path("value")).as("its own /var/task").hasSize(1);

    JsonNode found = run(probe, "{\"action\":\"find\",\"roots\":[\"/\"],\"needle\":\"" + secret + "\"}");
    assertThat(found.path("found")).as("files named like the victim's anywhere in the sandbox").isEmpty();
  }

  @Test
  void tmp_is_private_to_each_environment_and_survives_warm_invokes() throws Exception {
    String marker = "marker-" + UUID.randomUUID();
    String other = probeFunction("probe-other", b -> {});
    JsonNode wrote = run(probe, "{\"action\":\"write\",\"paths\":[\"/tmp/" + marker + "\"]}");
    assertThat(wrote.path("/tmp/" + marker).path("ok").asBoolean()).isTrue();

    JsonNode otherTmp = run(other, "{\"action\":\"list\",\"paths\":[\"/tmp\"]}");
    assertThat(otherTmp.path("/tmp").path("ok").asBoolean()).isTrue();
    assertThat(otherTmp.path("/tmp").path("value").valueStream().map(JsonNode::asString).toList())
        .as("another function's /tmp")
        .doesNotContain(marker);

    JsonNode again = run(probe, "{\"action\":\"list\",\"paths\":[\"/tmp\"]}");
    assertThat(again.path("envId").asString()).isEqualTo(wrote.path("envId").asString());
    assertThat(again.path("/tmp").path("value").valueStream().map(JsonNode::asString).toList())
        .as("the same warm environment keeps its /tmp")
        .contains(marker);

    // A second, concurrent environment of the same function starts with an empty /tmp too.
    CompletableFuture<Invocation> busy =
        CompletableFuture.supplyAsync(() -> invoke(probe, "{\"action\":\"sleep\",\"s\":1.5}"));
    Thread.sleep(300);
    JsonNode concurrent = run(probe, "{\"action\":\"list\",\"paths\":[\"/tmp\"]}");
    JsonNode slept = busy.get().ok();
    List<String> envs = List.of(concurrent.path("envId").asString(), slept.path("envId").asString());
    assertThat(envs).doesNotHaveDuplicates();
    JsonNode inOtherEnv = envs.get(0).equals(wrote.path("envId").asString()) ? null : concurrent;
    if (inOtherEnv != null) {
      assertThat(inOtherEnv.path("/tmp").path("value").valueStream().map(JsonNode::asString).toList())
          .doesNotContain(marker);
    }
  }

  @Test
  void host_and_other_sandboxes_processes_are_invisible() throws Exception {
    String sleeper =
        deploy(
            "sleeper",
            "nodejs22.x",
            "index.handler",
            Functions.node("exports.handler = async (e) => { await new Promise((r) => setTimeout(r, e.ms)); return 'slept'; };\n"));
    CompletableFuture<Invocation> busy = CompletableFuture.supplyAsync(() -> invoke(sleeper, "{\"ms\":2000}"));
    Thread.sleep(500);
    JsonNode id = run(probe, "{\"action\":\"identity\"}");
    assertThat(busy.get().ok().asString()).isEqualTo("slept");

    List<Integer> pids = id.path("pids").valueStream().map(JsonNode::asInt).toList();
    assertThat(pids).as("processes visible in /proc: %s", id.path("cmdlines")).hasSizeLessThanOrEqualTo(3);
    id.path("cmdlines")
        .properties()
        .forEach(
            e ->
                assertThat(e.getValue().asString())
                    .as("process %s seen from a sandbox", e.getKey())
                    .doesNotContain("kiln.jar")
                    .doesNotContain("node")
                    .doesNotContain("crun")
                    .doesNotContain("surefire"));
    assertThat(pids).as("the server's pid %d", server.pid()).doesNotContain((int) server.pid());

    // Only its own memory cgroup, none of its neighbours'.
    assertThat(id.path("cgroupDirs")).as("cgroup directories visible").isEmpty();
  }

  @Test
  void the_host_network_is_unreachable() throws Exception {
    AtomicInteger accepted = new AtomicInteger();
    try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getByName("0.0.0.0"))) {
      listener.setSoTimeout(200);
      Thread acceptor =
          Thread.ofVirtual()
              .start(
                  () -> {
                    while (!listener.isClosed()) {
                      try (Socket s = listener.accept()) {
                        accepted.incrementAndGet();
                      } catch (SocketTimeoutException e) {
                        // keep waiting
                      } catch (IOException e) {
                        return;
                      }
                    }
                  });
      List<String> targets = new ArrayList<>();
      targets.add("127.0.0.1:" + server.port());
      targets.add("127.0.0.1:" + listener.getLocalPort());
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress address : Collections.list(nic.getInetAddresses())) {
          if (address instanceof Inet4Address && !address.isLoopbackAddress()) {
            targets.add(address.getHostAddress() + ":" + listener.getLocalPort());
          }
        }
      }
      JsonNode result = run(probe, "{\"action\":\"connect\",\"targets\":" + jsonList(targets) + "}");
      for (String target : targets) {
        assertThat(result.path(target).path("ok").asBoolean())
            .as("connect to the host at %s: %s", target, result.path(target))
            .isFalse();
      }
      assertThat(accepted.get()).as("connections that reached the host").isZero();
      listener.close();
      acceptor.join(2000);
    }
  }

  @Test
  void the_runtime_api_inside_a_sandbox_serves_only_its_own_invocations() throws Exception {
    String spy = probeFunction("rapi-spy", b -> b.timeout(5));
    String victim = probeFunction("rapi-victim", b -> {});
    run(victim, "{}");
    run(spy, "{}");
    String secret = "victim-secret-" + UUID.randomUUID();

    CompletableFuture<Invocation> spying =
        CompletableFuture.supplyAsync(() -> invoke(spy, "{\"action\":\"next\",\"wait\":2}"));
    Thread.sleep(300);
    List<JsonNode> victims = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      victims.add(run(victim, "{\"action\":\"list\",\"paths\":[],\"secret\":\"" + secret + "\"}"));
      Thread.sleep(100);
    }
    Invocation spied = spying.get();
    JsonNode next = spied.ok().path("next");
    String seen = next.path("ok").asBoolean() ? next.path("value").asString() : next.path("error").asString();
    assertThat(seen).as("what the spy's GET /next returned").doesNotContain(secret);
    assertThat(victims).as("the victim's invocations all reached the victim").hasSize(5);
  }

  /**
   * On Lambda a stray GET /next from inside a handler does not take the environment's next event:
   * the following invoke still reaches the runtime.
   */
  @Test
  void a_handler_calling_next_itself_does_not_swallow_the_following_invocation() {
    String spy = probeFunction("rapi-stray", b -> b.timeout(3));
    JsonNode first = run(spy, "{\"action\":\"next\",\"wait\":1}");
    assertThat(first.path("next").path("value").asString("")).doesNotContain("Lambda-Runtime-Aws-Request-Id");
    Invocation following = invoke(spy, "{\"action\":\"list\",\"paths\":[]}");
    assertThat(following.functionError())
        .as("the invoke after a stray /next: %s", following)
        .isNull();
    assertThat(following.json().path("envId").asString()).isEqualTo(first.path("envId").asString());
  }

  @Test
  void memory_is_limited_to_the_memory_size() {
    String small = probeFunction("probe-128", b -> b.memorySize(128).timeout(20));
    JsonNode id = run(small, "{\"action\":\"identity\"}");
    String limit =
        id.path("memoryLimit").path("ok").asBoolean()
            ? id.path("memoryLimit").path("value").asString()
            : id.path("memoryMax").path("value").asString();
    assertThat(limit).as("the cgroup memory limit seen inside").isEqualTo(Long.toString(128L * 1024 * 1024));

    assertThat(run(small, "{\"action\":\"allocate\",\"mb\":60}").path("allocated").asInt()).isEqualTo(60);
    invoke(small, "{\"action\":\"allocate\",\"mb\":400}").unhandled("Runtime.OutOfMemory");

    String large = probeFunction("probe-1024", b -> b.memorySize(1024).timeout(20));
    assertThat(run(large, "{\"action\":\"allocate\",\"mb\":400}").path("allocated").asInt()).isEqualTo(400);
  }
}
