package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A hostile tenant in a forked Python environment (start-up snapshots on, {@code KILN_ENVIRONMENT_REUSE}
 * per-tenant and per-request): it must not see another tenant's files in {@code /dev/shm} or {@code /run/kiln-output},
 * its processes or command lines, must not signal another tenant's in-flight invocation or the zygote, and must not
 * reach the zygote's control socket. After it has sent SIGSTOP and SIGKILL to everything it can find, new tenants
 * still get answers. A zygote broken from outside (stopped by the host) costs no invocation either: Kiln boots
 * instead and replaces it.
 */
class ForkedIsolationTest extends InvokeTestBase {
  @Override
  protected boolean snapshots() {
    return true;
  }

  /**
   * {@code plant}: leaves files named after the tenant in /dev/shm, /run/kiln-output and /tmp, then sleeps (an
   * invocation in flight). Otherwise: reports every other process it can see with its command line, the listings of
   * /dev/shm and /run/kiln-output, and what the zygote's control socket answers; with {@code signals}, sends those
   * signals to every process it can see but itself.
   */
  private static final String PROBE = """
      import os, signal, socket, time

      def _cmdline(pid):
          try:
              with open('/proc/%d/cmdline' % pid, 'rb') as f:
                  return f.read().replace(b'\\0', b' ').decode('utf-8', 'replace').strip()
          except OSError as e:
              return 'unreadable: %s' % e.strerror

      def _listing(path):
          try:
              return sorted(os.listdir(path))
          except OSError as e:
              return ['unlistable: %s' % e.strerror]

      def _zygote():
          s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
          s.settimeout(3)
          try:
              s.connect('/run/kiln-output/zygote.sock')
              s.sendall(b'{"tmpMb": 16, "exitMark": "x"}\\n')
              return 'answered: %r' % s.recv(200)
          except OSError as e:
              return 'unreachable: %s' % e.strerror
          finally:
              s.close()

      def handler(event, context):
          me = os.getpid()
          tag = event['tag']
          if event.get('plant'):
              for d in ('/dev/shm', '/run/kiln-output', '/tmp'):
                  try:
                      with open(os.path.join(d, 'secret-' + tag), 'w') as f:
                          f.write(tag)
                  except OSError:
                      pass
              time.sleep(event.get('sleep', 0))
              return {'tag': tag, 'pid': me, 'initType': os.environ['AWS_LAMBDA_INITIALIZATION_TYPE']}
          others = {str(p): _cmdline(int(p)) for p in os.listdir('/proc') if p.isdigit() and int(p) != me}
          result = {'tag': tag, 'pid': me, 'parent': os.getppid(), 'others': others,
                    'initType': os.environ['AWS_LAMBDA_INITIALIZATION_TYPE'],
                    'shm': _listing('/dev/shm'), 'output': _listing('/run/kiln-output'), 'zygote': _zygote()}
          hit = set()
          for name in event.get('signals', []):
              for pid in others:
                  try:
                      os.kill(int(pid), getattr(signal, name))
                      hit.add(pid)
                  except OSError:
                      pass
          result['hit'] = sorted(hit)
          return result
      """;

  @Test
  void aTenantCannotReachAnotherTenantOrTheZygote() throws Exception {
    String name = deployForked("iso-tenant", "per-tenant");
    attackWhileAnotherIsInFlight(name, true, List.of("SIGSTOP", "SIGKILL"));
  }

  @Test
  void aRequestCannotReachAnotherRequestOrTheZygote() throws Exception {
    String name = deployForked("iso-request", "per-request");
    attackWhileAnotherIsInFlight(name, false, List.of("SIGSTOP"));
  }

  /** A zygote the host stopped answers no fork: invocations boot instead, and Kiln starts another zygote. */
  @Test
  void aStoppedZygoteCostsNoInvocation() throws Exception {
    String name = deployForked("iso-stopped", "per-tenant");
    int zygotes = workerStats().path("zygotes").asInt();
    long zygote = zygotePid(name);
    assertThat(zygote).as("the zygote's host pid").isPositive();
    signal(zygote, "STOP");
    try {
      for (int i = 0; i < 3; i++) {
        long started = System.nanoTime();
        String tenant = "late-" + i;
        Invocation call = invoke(name, "{\"tag\": \"" + tenant + "\"}", b -> b.tenantId(tenant));
        assertThat(call.status()).as("invoke %d after the zygote was stopped: %s", i, call).isEqualTo(200);
        assertThat(call.ok().path("tag").asString()).isEqualTo(tenant);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("invoke %d", i)
            .isLessThan(Duration.ofSeconds(9));
      }
      // A new zygote process is started only once the stopped one is retired; ready when the count is back.
      await("a new zygote in place of the stopped one").atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> {
            long now = zygotePid(name);
            return now > 0 && now != zygote && workerStats().path("zygotes").asInt() >= zygotes;
          });
      Invocation restored = invoke(name, "{\"tag\": \"after\"}", b -> b.tenantId("after"));
      assertThat(restored.ok().path("tag").asString()).isEqualTo("after");
      assertThat(restored.ok().path("initType").asString()).as("forked from the new zygote").isEqualTo("snap-start");
    } finally {
      if (Files.exists(Path.of("/proc/" + zygote))) {
        signal(zygote, "CONT");
      }
    }
  }

  private String deployForked(String prefix, String reuse) throws InterruptedException {
    int zygotesBefore = workerStats().path("zygotes").asInt();
    String name = deploy(prefix, "python3.12", "lambda_function.handler", Functions.python(PROBE),
        b -> b.memorySize(128).timeout(30).environment(e -> e.variables(Map.of("KILN_ENVIRONMENT_REUSE", reuse))));
    await("the zygote of " + name).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
        .until(() -> workerStats().path("zygotes").asInt() > zygotesBefore);
    return name;
  }

  private void attackWhileAnotherIsInFlight(String name, boolean perTenant, List<String> signals) throws Exception {
    // A's invocation is in flight (sleeping) while B looks around and attacks.
    long busyBefore = workerStats().path("environments").path("BUSY").asLong();
    CompletableFuture<Invocation> victim = CompletableFuture.supplyAsync(
        () -> invokeFor(name, "{\"tag\": \"alpha\", \"plant\": true, \"sleep\": 4}", perTenant ? "alpha" : null),
        Thread::startVirtualThread);
    await("alpha's invocation in flight").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> victim.isDone() || workerStats().path("environments").path("BUSY").asLong() > busyBefore);

    String attack = "{\"tag\": \"beta\", \"signals\": [\"" + String.join("\", \"", signals) + "\"]}";
    JsonNode beta = invokeFor(name, attack, perTenant ? "beta" : null).ok();
    assertThat(beta.path("initType").asString()).as("beta runs in an environment forked from the zygote")
        .isEqualTo("snap-start");
    assertThat(beta.path("shm").toString()).as("beta's /dev/shm: %s", beta).doesNotContain("secret-alpha");
    assertThat(beta.path("output").toString()).as("beta's /run/kiln-output: %s", beta)
        .doesNotContain("secret-alpha").doesNotContain("zygote.sock");
    assertThat(beta.path("zygote").asString()).as("the zygote's control socket from beta").startsWith("unreachable");
    Set<String> others = new HashSet<>();
    beta.path("others").propertyNames().forEach(others::add);
    assertThat(others).as("processes beta can see besides itself and its own parent: %s", beta.path("others"))
        .isSubsetOf(Set.of(beta.path("parent").asString()));

    Invocation alpha = victim.get(60, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(alpha.status()).as("alpha's invocation after beta's attack: %s", alpha).isEqualTo(200);
    assertThat(alpha.ok().path("tag").asString()).isEqualTo("alpha");

    // New tenants (or requests) after the attack: answers, not 500s.
    List<String> tags = new ArrayList<>();
    int restored = 0;
    for (int i = 0; i < 4; i++) {
      String tag = "new-" + i;
      Invocation call = invokeFor(name, "{\"tag\": \"" + tag + "\"}", perTenant ? tag : null);
      assertThat(call.status()).as("%s after the attack: %s", tag, call).isEqualTo(200);
      JsonNode probe = call.ok();
      assertThat(probe.path("shm").toString()).as("%s's /dev/shm", tag).doesNotContain("secret-");
      tags.add(probe.path("tag").asString());
      restored += probe.path("initType").asString().equals("snap-start") ? 1 : 0;
    }
    assertThat(tags).containsExactly("new-0", "new-1", "new-2", "new-3");
    assertThat(restored).as("environments still forked from the zygote after the attack").isPositive();
  }

  private Invocation invokeFor(String name, String payload, String tenant) {
    return invoke(name, payload, b -> {
      if (tenant != null) {
        b.tenantId(tenant);
      }
    });
  }

  /**
   * The host pid of the function's zygote: the process started with {@code _KILN_ZYGOTE_SOCKET} for it whose parent
   * was not (its forks inherit the variable); 0 when there is none.
   */
  private static long zygotePid(String function) throws IOException {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        String env = environ(proc);
        if (!env.contains("_KILN_ZYGOTE_SOCKET=") || !env.contains("AWS_LAMBDA_FUNCTION_NAME=" + function + "\0")) {
          continue;
        }
        try {
          String stat = Files.readString(proc.resolve("stat"));
          String parent = stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1];
          if (!environ(Path.of("/proc", parent)).contains("_KILN_ZYGOTE_SOCKET=")) {
            return Long.parseLong(proc.getFileName().toString());
          }
        } catch (IOException gone) {
          // exited meanwhile
        }
      }
    }
    return 0;
  }

  private static String environ(Path proc) {
    try {
      return new String(Files.readAllBytes(proc.resolve("environ")), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static void signal(long pid, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    assertThat(kill.waitFor()).as("kill -%s %d", signal, pid).isZero();
  }
}
