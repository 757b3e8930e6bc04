package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What every backend must do; subclasses add what only theirs can. */
@Timeout(120)
abstract class SandboxContract {
  static final SandboxLimits LIMITS = new SandboxLimits(256, 64, 256, false);

  @TempDir Path temp;
  Path root;
  Path runtimeDir;
  SandboxBackend backend;

  abstract SandboxBackend newBackend(Path root, Path runtimeDir);

  /** Process ids of everything the sandbox runs now. */
  abstract List<Long> processes(Sandbox s);

  @BeforeEach
  void setUp() throws Exception {
    root = temp.resolve("sandboxes");
    runtimeDir = Files.createDirectories(temp.resolve("runtimes"));
    Files.writeString(runtimeDir.resolve("marker.txt"), "runtime-dir\n");
    backend = newBackend(root, runtimeDir);
  }

  @AfterEach
  void tearDown() {
    if (backend != null) backend.close();
  }

  @Test
  void outputLinesArriveAndExitCodeIsReported() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var r = Runs.sh(s, "echo one; echo two >&2; printf 'three'; exit 3");
      assertThat(r.lines()).containsExactly("one", "two", "three");
      assertThat(r.exit()).isEqualTo(new Sandbox.Exit(3, false));
    }
  }

  @Test
  void environmentIsExactlyWhatWasGiven() throws Exception {
    var env = new LinkedHashMap<String, String>();
    env.put("PATH", "/usr/bin:/bin");
    env.put("PLAIN", "1");
    env.put("TRICKY", "it's \"quoted\" $HOME `id` \\ ;&|\nsecond line");
    env.put("EMPTY", "");
    try (Sandbox s = backend.prepare(LIMITS)) {
      // env(1) itself as the runtime: a shell would add PWD of its own.
      var r = Runs.run(s, List.of("/usr/bin/env", "-0"), env, null, 256);
      assertThat(r.exit().code()).isZero();
      String joined = String.join("\n", r.lines());
      var seen = new LinkedHashMap<String, String>();
      for (String entry : joined.split("\0")) {
        if (entry.isEmpty()) continue;
        int eq = entry.indexOf('=');
        seen.put(entry.substring(0, eq), entry.substring(eq + 1));
      }
      assertThat(seen).isEqualTo(env);
    }
    try (Sandbox s = backend.prepare(LIMITS)) {
      var r = Runs.run(s, List.of("/usr/bin/env"), Map.of("ONLY", "this"), null, 256);
      assertThat(r.lines()).containsExactlyInAnyOrder("ONLY=this", "PATH=" + Launch.DEFAULT_PATH);
    }
  }

  @Test
  void runtimeApiReachesTheWorkersSocket() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var request = Runs.answerOnce(s.runtimeApiSocket(), "hello from the worker");
      var r = Runs.sh(s, "curl -sS http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation/next",
          Map.of("AWS_LAMBDA_RUNTIME_API", s.runtimeApiAddress(), "PATH", "/usr/bin:/bin"));
      assertThat(r.lines()).containsExactly("hello from the worker");
      assertThat(r.exit().code()).isZero();
      assertThat(request.get(10, TimeUnit.SECONDS)).isEqualTo("GET /2018-06-01/runtime/invocation/next HTTP/1.1");
    }
  }

  @Test
  void codeAndRuntimesAreVisibleAtTheirLambdaPaths() throws Exception {
    Path code = Files.createDirectories(temp.resolve("code/sub"));
    Files.writeString(code.getParent().resolve("hello.txt"), "hello code\n");
    Files.writeString(code.resolve("nested.txt"), "nested\n");
    try (Sandbox s = backend.prepare(LIMITS)) {
      var r = Runs.run(s, List.of("/bin/sh", "-c",
              "cat \"$LAMBDA_TASK_ROOT/hello.txt\" \"$LAMBDA_TASK_ROOT/sub/nested.txt\" /var/runtime/marker.txt;"
                  + " [ \"$(pwd -P)\" = \"$(cd \"$LAMBDA_TASK_ROOT\" && pwd -P)\" ] && echo cwd-is-task-root"),
          Map.of("LAMBDA_TASK_ROOT", "/var/task"), code.getParent(), 256);
      assertThat(r.lines()).containsExactly("hello code", "nested", "runtime-dir", "cwd-is-task-root");
    }
  }

  @Test
  void runFilesAreReadOnlyAndTheOutputDirectoryWritableOnlyWhenAsked() throws Exception {
    Path snapshot = Files.writeString(temp.resolve("snapshot.bin"), "initialized state\n");
    // plain processes share the host's files, so only an isolating backend can refuse the write
    String tamper = isolated() ? " (echo tampered > /run/kiln/state.bin) 2>/dev/null || echo read-only" : "";
    try (Sandbox s = backend.prepare(LIMITS)) {
      var out = new Runs.Output();
      s.launch(new Launch(List.of("/bin/sh", "-c", "cat /run/kiln/state.bin; echo trained > /run/kiln-output/result;"
          + tamper), Map.of(), null, 256, Map.of("state.bin", snapshot), true), out::add);
      assertThat(s.exited().get(60, TimeUnit.SECONDS).code()).isZero();
      if (isolated()) {
        assertThat(out.lines()).containsExactly("initialized state", "read-only");
      } else {
        assertThat(out.lines()).containsExactly("initialized state");
      }
      assertThat(Files.readString(s.outputDir().resolve("result"))).isEqualTo("trained\n");
      assertThat(Files.readString(snapshot)).isEqualTo("initialized state\n");
    }
    try (Sandbox s = backend.prepare(LIMITS)) {
      var r = Runs.sh(s, "(echo x > /run/kiln-output/result) 2>/dev/null && echo wrote || echo refused");
      assertThat(r.lines()).containsExactly(isolated() ? "refused" : "wrote");
    }
  }

  /** Whether the backend isolates the sandbox user from the host's files (crun: yes; plain processes: no). */
  abstract boolean isolated();

  @Test
  void freezeStopsAndThawResumes() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var out = Runs.start(s, List.of("/bin/sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.02; done"),
          Map.of(), null, 256);
      out.await(l -> l.equals("5"), Duration.ofSeconds(20));
      s.freeze();
      int frozenAt = out.lines().size();
      Thread.sleep(400);
      assertThat(out.lines().size()).isLessThanOrEqualTo(frozenAt + 1); // one line may have been in flight
      int before = out.lines().size();
      s.thaw();
      int target = before + 5;
      out.await(l -> Integer.parseInt(l) >= target, Duration.ofSeconds(20));
    }
  }

  @Test
  void peakMemoryIsPlausible() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var out = Runs.start(s, List.of("/usr/bin/python3", "-c",
          "import time\nb = b'x' * (100 * 1024 * 1024)\nprint('allocated', flush=True)\ntime.sleep(1)"),
          Map.of(), null, 256);
      out.await("allocated"::equals, Duration.ofSeconds(30));
      long whileRunning = s.peakMemoryBytes();
      s.exited().get(30, TimeUnit.SECONDS);
      long peak = s.peakMemoryBytes();
      assertThat(Math.max(peak, whileRunning)).isBetween(100L << 20, 256L << 20);
    }
  }

  @Test
  void closeLeavesNothingBehind() throws Exception {
    Sandbox s = backend.prepare(LIMITS);
    var out = Runs.start(s, List.of("/bin/sh", "-c", "sleep 1000 & sleep 1000 & echo started; exec sleep 1000"),
        Map.of(), null, 256);
    out.await("started"::equals, Duration.ofSeconds(20));
    List<Long> pids = processes(s);
    assertThat(pids).hasSizeGreaterThanOrEqualTo(3);
    Path dir = s.runtimeApiSocket().getParent().getParent();
    assertThat(dir).isDirectory();
    s.close();
    assertThat(s.exited().get(10, TimeUnit.SECONDS).code()).isEqualTo(137);
    assertThat(Runs.alive(pids)).as(() -> describe(pids)).isEmpty();
    assertThat(dir).doesNotExist();
    s.close(); // idempotent
    assertThatThrownBy(() -> s.launch(new Launch(List.of("true"), Map.of(), null, 128), l -> {}))
        .isInstanceOf(SandboxException.class);
  }

  static String describe(List<Long> pids) {
    var sb = new StringBuilder();
    for (long pid : pids) {
      try {
        sb.append(pid).append(": ").append(Files.readString(Path.of("/proc/" + pid + "/status")).lines()
            .filter(l -> l.startsWith("Name") || l.startsWith("State") || l.startsWith("PPid")).toList()).append('\n');
      } catch (Exception e) {
        sb.append(pid).append(": gone\n");
      }
    }
    return sb.toString();
  }

  @Test
  void launchIsAllowedOnce() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      Runs.start(s, List.of("/bin/sh", "-c", "sleep 1000"), Map.of(), null, 128);
      assertThatThrownBy(() -> s.launch(new Launch(List.of("true"), Map.of(), null, 128), l -> {}))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void anAbandonedBackendsSandboxesAreCleanedUpByTheNextOneOnTheSameRoot() throws Exception {
    Sandbox idle = backend.prepare(LIMITS);
    Sandbox running = backend.prepare(LIMITS);
    var out = Runs.start(running, List.of("/bin/sh", "-c", "echo started; exec sleep 1000"), Map.of(), null, 128);
    out.await("started"::equals, Duration.ofSeconds(20));
    List<Long> pids = new java.util.ArrayList<>(processes(idle));
    pids.addAll(processes(running));
    assertThat(pids).isNotEmpty();
    // The old backend "crashes": it is dropped without close, and a new one starts on the same root.
    backend = newBackend(root, runtimeDir);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!Runs.alive(pids).isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
    assertThat(Runs.alive(pids)).isEmpty();
    try (var dirs = Files.list(root)) {
      assertThat(dirs.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))).isEmpty();
    }
    assertThat(running.exited().get(10, TimeUnit.SECONDS).code()).isEqualTo(137);
    // And the new backend works.
    try (Sandbox s = backend.prepare(LIMITS)) {
      assertThat(Runs.sh(s, "echo fine").lines()).containsExactly("fine");
    }
  }

  @Test
  void manySandboxesInParallel() throws Exception {
    var sandboxes = new java.util.ArrayList<Sandbox>();
    try {
      for (int i = 0; i < 6; i++) sandboxes.add(backend.prepare(LIMITS));
      var outs = new java.util.ArrayList<Runs.Output>();
      for (int i = 0; i < sandboxes.size(); i++) {
        outs.add(Runs.start(sandboxes.get(i), List.of("/bin/sh", "-c", "echo sandbox-$N"), Map.of("N", "" + i), null, 128));
      }
      for (int i = 0; i < sandboxes.size(); i++) {
        assertThat(sandboxes.get(i).exited().get(30, TimeUnit.SECONDS).code()).isZero();
        assertThat(outs.get(i).lines()).containsExactly("sandbox-" + i);
      }
    } finally {
      sandboxes.forEach(Sandbox::close);
    }
  }
}
