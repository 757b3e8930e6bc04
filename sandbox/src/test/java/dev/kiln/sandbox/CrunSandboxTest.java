package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The crun backend, for real: run as root with crun and socat installed (skipped otherwise). */
class CrunSandboxTest extends SandboxContract {

  @BeforeAll
  static void crunAvailable() {
    String reason = CrunBackend.unavailableReason();
    assumeTrue(reason == null, "crun sandboxes unavailable here: " + reason);
  }

  @Override
  boolean isolated() {
    return true;
  }

  @Override
  SandboxBackend newBackend(Path root, Path runtimeDir) {
    return new CrunBackend(root, runtimeDir);
  }

  @Override
  List<Long> processes(Sandbox s) {
    return ((CrunSandbox) s).processIds();
  }

  private List<Path> cgroupDirs(Sandbox s) {
    var crun = (CrunBackend) backend;
    return crun.cgroupMounts.values().stream().distinct()
        .map(m -> m.resolve(crun.root.cgroupBase()).resolve(s.id())).toList();
  }

  @Test
  void runsAsNobodyWithoutCapabilities() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var r = Runs.sh(s, "id -u; id -g; id -G; grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status;"
          + " grep NoNewPrivs /proc/self/status; hostname");
      assertThat(r.lines()).containsExactly("65534", "65534", "65534",
          "CapInh:\t0000000000000000", "CapPrm:\t0000000000000000", "CapEff:\t0000000000000000",
          "CapBnd:\t0000000000000000", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "kiln");
    }
  }

  @Test
  void rootAndCodeAreReadOnlyTmpIsWritableAndLimited() throws Exception {
    Path code = Files.createDirectories(temp.resolve("code"));
    Files.writeString(code.resolve("handler.txt"), "code\n");
    try (Sandbox s = backend.prepare(new SandboxLimits(256, 8, 64, false))) {
      var r = Runs.run(s, List.of("/bin/sh", "-c", """
          for f in /var/task/new /var/task/handler.txt /new /usr/new /etc/new /var/runtime/new /run/kiln/new; do
            if (echo x > $f) 2>/dev/null; then echo "writable $f"; else echo "read-only $f"; fi
          done
          rm /var/task/handler.txt 2>/dev/null && echo "removed code"
          dd if=/dev/zero of=/tmp/small bs=1M count=4 2>/dev/null && echo "tmp 4M ok"
          dd if=/dev/zero of=/tmp/big bs=1M count=16 2>&1 | grep -q 'No space left' && echo "tmp full at 8M"
          df -m /tmp | tail -1 | awk '{print "tmp size " $2}'
          """), Map.of(), code, 256);
      assertThat(r.lines()).containsExactly("read-only /var/task/new", "read-only /var/task/handler.txt", "read-only /new",
          "read-only /usr/new", "read-only /etc/new", "read-only /var/runtime/new", "read-only /run/kiln/new",
          "tmp 4M ok", "tmp full at 8M", "tmp size 8");
      assertThat(code.resolve("handler.txt")).hasContent("code");
    }
  }

  @Test
  void memoryOverTheLimitIsOomKilled() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var r = Runs.run(s, List.of("/usr/bin/python3", "-c", "b = b'x' * (300 * 1024 * 1024)"), Map.of(), null, 256);
      assertThat(r.exit()).isEqualTo(new Sandbox.Exit(137, true));
    }
    try (Sandbox s = backend.prepare(new SandboxLimits(128, 64, 64, false))) {
      // the limit comes from the launch, not from prepare: 300 MB fits under 512
      var r = Runs.run(s, List.of("/usr/bin/python3", "-c", "b = b'x' * (300 * 1024 * 1024); print('fits')"),
          Map.of(), null, 512);
      assertThat(r.exit()).isEqualTo(new Sandbox.Exit(0, false));
      assertThat(r.lines()).containsExactly("fits");
      assertThat(s.peakMemoryBytes()).isBetween(300L << 20, 512L << 20);
    }
  }

  @Test
  void forkBombIsStoppedByThePidsLimit() throws Exception {
    try (Sandbox s = backend.prepare(new SandboxLimits(256, 64, 32, false))) {
      var r = Runs.run(s, List.of("/usr/bin/python3", "-c", """
          import os, time
          ok = failed = 0
          for i in range(100):
              try:
                  pid = os.fork()
              except OSError:
                  failed += 1
                  continue
              if pid == 0:
                  time.sleep(30)
                  os._exit(0)
              ok += 1
          print(ok, failed, flush=True)
          """), Map.of(), null, 256);
      String[] counts = r.lines().getFirst().split(" ");
      assertThat(Integer.parseInt(counts[0])).as("forks that worked").isLessThan(32);
      assertThat(Integer.parseInt(counts[1])).as("forks that failed").isGreaterThan(68);
    }
  }

  @Test
  void aSandboxReachesNothingButLoopbackUntilAPolicyIsApplied() throws Exception {
    try (var hostServer = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Sandbox s = backend.prepare(LIMITS)) {
      int port = hostServer.getLocalPort();
      var r = Runs.sh(s, "ls /sys/class/net; cat /sys/class/net/lo/flags;"
          + " curl -sS -m 3 http://127.0.0.1:" + port + "/ >/dev/null 2>&1 && echo host-reachable || echo host-unreachable;"
          + " curl -sS -m 3 http://1.1.1.1/ >/dev/null 2>&1 && echo internet || echo no-internet;"
          + " cat /proc/net/route | wc -l");
      // its veth link is there from prepare (with the default route: header + 2 lines), but carries nothing yet
      assertThat(r.lines()).containsExactly("eth0", "lo", "0x9", "host-unreachable", "no-internet", "3");
      assertThat(s.runtimeApiAddress()).isEqualTo("127.0.0.1:9001");
    }
  }

  @Test
  void sandboxesCannotSeeEachOther() throws Exception {
    try (Sandbox a = backend.prepare(LIMITS); Sandbox b = backend.prepare(LIMITS)) {
      var outA = Runs.start(a, List.of("/bin/sh", "-c", "echo secret > /tmp/secret-of-a; echo ready; exec sleep 777"),
          Map.of(), null, 128);
      outA.await("ready"::equals, Duration.ofSeconds(20));
      var r = Runs.sh(b, "ls /tmp; cat /proc/[0-9]*/cmdline | tr '\\0' ' ' | grep -c '[7]77';"
          + " ls /proc | grep '^[0-9]' | wc -l; ls /run/kiln");
      assertThat(r.lines().getFirst()).isNotEqualTo("secret-of-a");
      assertThat(r.lines()).doesNotContain("secret-of-a");
      assertThat(r.lines()).contains("0"); // no process with 777 in its command line
      // b sees only itself: pid 1 (the runtime), socat, and the commands of this pipeline
      int visible = Integer.parseInt(r.lines().get(r.lines().size() - 1 - (r.lines().getLast().equals("runtime.sock") ? 1 : 0)));
      assertThat(visible).isLessThan(8);
    }
  }

  @Test
  void closeRemovesTheCgroupsAndTheCrunState() throws Exception {
    Sandbox s = backend.prepare(LIMITS);
    List<Path> groups = cgroupDirs(s);
    assertThat(groups).allSatisfy(g -> assertThat(g).isDirectory());
    Path state = ((CrunBackend) backend).crunState.resolve(s.id());
    assertThat(state).isDirectory();
    s.close();
    assertThat(groups).allSatisfy(g -> assertThat(g).doesNotExist());
    assertThat(state).doesNotExist();
  }

  @Test
  void backendCloseRemovesItsCgroupParents() throws Exception {
    var crun = (CrunBackend) backend;
    Sandbox s = backend.prepare(LIMITS);
    assertThat(Runs.sh(s, "echo hi").lines()).containsExactly("hi");
    List<Path> bases = crun.cgroupMounts.values().stream().distinct().map(m -> m.resolve(crun.root.cgroupBase())).toList();
    assertThat(bases).allSatisfy(b -> assertThat(b).isDirectory());
    backend.close();
    backend = null;
    assertThat(bases).allSatisfy(b -> assertThat(b).doesNotExist());
    assertThat(s.exited().get(5, TimeUnit.SECONDS).code()).isZero();
  }

  @Test
  void stdinIsClosedAndTheRuntimeIsNotPidOneSoItCanKillItself() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      // PID 1 of a namespace ignores signals it sends itself; the runtime runs under the start shell.
      var r = Runs.sh(s, "cat; echo \"pid $$\"; cat /proc/1/comm; kill -9 $$");
      assertThat(r.lines()).hasSize(2).last().isEqualTo("sh");
      assertThat(r.lines().getFirst()).isNotEqualTo("pid 1");
      assertThat(r.exit().code()).isEqualTo(137);
    }
  }

  @Test
  void networkTrueSharesTheHostNetwork() throws Exception {
    try (var hostServer = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Sandbox s = backend.prepare(new SandboxLimits(256, 64, 64, true))) {
      var request = Runs.answerOnce(s.runtimeApiSocket(), "ok");
      int port = hostServer.getLocalPort();
      assertThat(s.runtimeApiAddress()).isNotEqualTo("127.0.0.1:9001");
      var r = Runs.sh(s, "curl -sS http://$AWS_LAMBDA_RUNTIME_API/x; echo;"
          + " curl -sS -m 3 http://127.0.0.1:" + port + "/ >/dev/null 2>&1; [ $? -ne 7 ] && echo host-reachable",
          Map.of("AWS_LAMBDA_RUNTIME_API", s.runtimeApiAddress(), "PATH", "/usr/bin:/bin"));
      assertThat(r.lines()).containsExactly("ok", "host-reachable");
      assertThat(request.get(5, TimeUnit.SECONDS)).startsWith("GET /x ");
    }
  }
}
