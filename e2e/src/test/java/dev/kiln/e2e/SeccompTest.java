package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.FunctionZip;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.JavaFunctions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Kiln's default system call filter inside real functions (issue 11, break 5: every sandbox had {@code Seccomp: 0};
 * {@code unshare -Ur} gave uid 0 in a user namespace and mounts worked there). In Python, Node.js and Java
 * functions: {@code /proc/self/status} shows mode 2, {@code unshare -Ur} fails, and the calls container escapes use
 * (mount, keyctl, io_uring_setup, bpf, ptrace, open_by_handle_at) fail with EPERM, made by a probe the function runs
 * as its own child (Node and Java cannot make raw system calls); the runtime's ordinary work (threads, processes,
 * sockets, files) goes on.
 */
class SeccompTest extends InvokeTestBase {
  /** Prints one JSON object: call name to 0 (it worked) or the errno it failed with. */
  static final String PROBE = """
      import ctypes, json, subprocess
      libc = ctypes.CDLL(None, use_errno=True)
      L = ctypes.c_long

      def sc(nr, *args):
          r = libc.syscall(L(nr), *[L(a) for a in args])
          return 0 if r >= 0 else ctypes.get_errno()

      def mount():
          return 0 if libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None) == 0 else ctypes.get_errno()

      def unshare_ur():
          p = subprocess.run(["/usr/bin/unshare", "-Ur", "/usr/bin/id", "-u"], capture_output=True, text=True)
          return {"code": p.returncode, "out": p.stdout.strip(), "err": p.stderr.strip()}

      print(json.dumps({
          "unshareUr": unshare_ur(),  # first: the raw unshare below would put this process in a namespace
          "unshareUser": sc(272, 0x10000000),
          "mount": mount(),
          "keyctl": sc(250, 0, -3, 0),
          "io_uring_setup": sc(425, 1, 0),
          "bpf": sc(321, 0, 0, 0),
          "ptrace": sc(101, 16, 1),
          "open_by_handle_at": sc(304, -100, 0, 0),
      }))
      """;

  static final String PYTHON = """
      import json, os, socket, subprocess, sys, threading

      def ordinary_work():
          done = []
          threads = [threading.Thread(target=lambda: done.append(1)) for _ in range(8)]
          [t.start() for t in threads]
          [t.join() for t in threads]
          with open("/tmp/work.txt", "w") as f:
              f.write("file")
          server = socket.socket()
          server.bind(("127.0.0.1", 0))
          server.listen(1)
          client = socket.create_connection(server.getsockname())
          conn, _ = server.accept()
          client.sendall(b"ping")
          got = conn.recv(4)
          for s in (client, conn, server):
              s.close()
          echo = subprocess.run(["/bin/echo", "child"], capture_output=True, text=True).stdout.strip()
          return {"threads": len(done), "file": open("/tmp/work.txt").read(), "socket": got.decode(), "process": echo}

      def handler(event, context):
          status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
          probe = subprocess.run([sys.executable, os.path.join(os.environ["LAMBDA_TASK_ROOT"], "probe.py")],
                                 capture_output=True, text=True)
          return {"seccomp": status["Seccomp"].strip(), "probe": json.loads(probe.stdout or "null"),
                  "probeErr": probe.stderr, "work": ordinary_work()}
      """;

  static final String NODE = """
      const fs = require('node:fs');
      const net = require('node:net');
      const zlib = require('node:zlib');
      const { execFileSync } = require('node:child_process');
      const { Worker } = require('node:worker_threads');

      async function ordinaryWork() {
        const fromWorker = await new Promise((resolve, reject) => {
          const w = new Worker('require("node:worker_threads").parentPort.postMessage(6 * 7)', { eval: true });
          w.on('message', resolve);
          w.on('error', reject);
        });
        fs.writeFileSync('/tmp/work.txt', 'file');
        const gz = await new Promise((resolve, reject) =>   // zlib runs on libuv's thread pool
          zlib.gzip('x'.repeat(1000), (e, b) => e ? reject(e) : resolve(zlib.gunzipSync(b).length)));
        const echoed = await new Promise((resolve, reject) => {
          const server = net.createServer(c => c.pipe(c)).listen(0, '127.0.0.1', () => {
            const c = net.connect(server.address().port, '127.0.0.1', () => c.write('ping'));
            c.on('data', d => { c.end(); server.close(); resolve(d.toString()); });
            c.on('error', reject);
          });
        });
        const child = execFileSync('/bin/echo', ['child']).toString().trim();
        return { worker: fromWorker, file: fs.readFileSync('/tmp/work.txt', 'utf8'), gzip: gz, socket: echoed,
          process: child };
      }

      exports.handler = async () => {
        const status = fs.readFileSync('/proc/self/status', 'utf8');
        const probe = JSON.parse(execFileSync('/usr/bin/python3', [process.env.LAMBDA_TASK_ROOT + '/probe.py']));
        return { seccomp: /Seccomp:\\s*(\\d)/.exec(status)[1], probe, work: await ordinaryWork() };
      };
      """;

  static final String JAVA = """
      package probe;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.io.*;
      import java.net.*;
      import java.nio.file.*;
      import java.util.*;
      import java.util.concurrent.*;

      public class Handler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
        @Override
        public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
          try {
            Map<String, Object> out = new LinkedHashMap<>();
            String status = Files.readString(Path.of("/proc/self/status"));
            out.put("seccomp", status.lines().filter(l -> l.startsWith("Seccomp:")).findFirst().orElseThrow()
                .substring(8).trim());
            out.put("probe", run("/usr/bin/python3", System.getenv("LAMBDA_TASK_ROOT") + "/probe.py"));
            out.put("work", ordinaryWork());
            return out;
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        }

        static String run(String... command) throws Exception {
          Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
          String out = new String(p.getInputStream().readAllBytes()).trim();
          p.waitFor();
          return out;
        }

        static Map<String, Object> ordinaryWork() throws Exception {
          Map<String, Object> work = new LinkedHashMap<>();
          try (var pool = Executors.newFixedThreadPool(4)) {
            List<Future<Integer>> parts = new ArrayList<>();
            for (int i = 0; i < 8; i++) parts.add(pool.submit(() -> 1));
            int sum = 0;
            for (var f : parts) sum += f.get();
            work.put("threads", sum);
          }
          try (var virtual = Executors.newVirtualThreadPerTaskExecutor()) {
            work.put("virtual", virtual.submit(() -> "ok").get());
          }
          Files.writeString(Path.of("/tmp/work.txt"), "file");
          work.put("file", Files.readString(Path.of("/tmp/work.txt")));
          try (var server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
               var client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
               var accepted = server.accept()) {
            client.getOutputStream().write("ping".getBytes());
            work.put("socket", new String(accepted.getInputStream().readNBytes(4)));
          }
          work.put("process", run("/bin/echo", "child"));
          return work;
        }
      }
      """;

  /** On for the forked Python test (zygotes); the other tests opt out per function and boot plainly. */
  @Override
  protected boolean snapshots() {
    return true;
  }

  private static final Map<String, String> BOOTED = Map.of("KILN_SNAPSHOT", "off");

  @BeforeAll
  void requireCrun() {
    if (!server.output().contains("sandboxes: crun")) {
      String message = "The server does not run crun sandboxes, so its system call filter cannot be tested here.";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        Assertions.fail(message + "\nCI=true: failing instead of skipping.");
      }
      Assumptions.abort(message);
    }
  }

  /** The probe's answers and the ordinary work, as every runtime reports them. */
  private static void assertFiltered(JsonNode r) {
    assertThat(r.path("seccomp").asString()).as("Seccomp mode in /proc/self/status: %s", r).isEqualTo("2");
    JsonNode probe = r.path("probe");
    if (probe.isString()) probe = json(probe.asString()); // Java hands the probe's output back as text
    for (String call : new String[] {"unshareUser", "mount", "keyctl", "io_uring_setup", "bpf", "ptrace",
        "open_by_handle_at"}) {
      assertThat(probe.path(call).asInt(-1)).as("%s fails with EPERM: %s", call, r).isEqualTo(1);
    }
    JsonNode unshare = probe.path("unshareUr");
    assertThat(unshare.path("code").asInt()).as("unshare -Ur fails: %s", unshare).isNotZero();
    assertThat(unshare.path("out").asString()).as("no uid 0 in a user namespace").isEmpty();
    assertThat(unshare.path("err").asString()).contains("Operation not permitted");
  }

  private static void assertWorked(JsonNode work, Map<String, Object> expected) {
    expected.forEach((key, value) -> assertThat(work.path(key).asString()).as("%s: %s", key, work)
        .isEqualTo(String.valueOf(value)));
  }

  @Test
  void pythonFunctionsAreFilteredAndStillWork() {
    String name = deploy("seccomp-py", "python3.12", "lambda_function.handler",
        FunctionZip.create().file("lambda_function.py", PYTHON).file("probe.py", PROBE).bytes(),
        b -> b.environment(e -> e.variables(BOOTED)));
    JsonNode r = invoke(name, "{}").ok();
    assertFiltered(r);
    assertWorked(r.path("work"), Map.of("threads", 8, "file", "file", "socket", "ping", "process", "child"));
  }

  @Test
  void nodeFunctionsAreFilteredAndStillWork() {
    String name = deploy("seccomp-node", "nodejs22.x", "index.handler",
        FunctionZip.create().file("index.js", NODE).file("probe.py", PROBE).bytes(),
        b -> b.environment(e -> e.variables(BOOTED)));
    JsonNode r = invoke(name, "{}").ok();
    assertFiltered(r);
    assertWorked(r.path("work"), Map.of("worker", 42, "file", "file", "gzip", 1000, "socket", "ping", "process",
        "child"));
  }

  @Test
  void javaFunctionsAreFilteredAndStillWork() {
    var classes = JavaFunctions.compile(Map.of("probe/Handler.java", JAVA), 21);
    byte[] zip = FunctionZip.create().files(classes).copy("lib/aws-lambda-java-core-1.4.0.jar", JavaFunctions.coreJar())
        .file("probe.py", PROBE).bytes();
    for (String runtime : new String[] {"java21", "java25"}) {
      String name = deploy("seccomp-" + runtime, runtime, "probe.Handler", zip,
          b -> b.memorySize(512).environment(e -> e.variables(BOOTED)));
      JsonNode r = invoke(name, "{}").ok();
      assertFiltered(r);
      assertWorked(r.path("work"), Map.of("threads", 8, "virtual", "ok", "file", "file", "socket", "ping", "process",
          "child"));
    }
  }

  /**
   * A Python environment forked from a zygote: the zygote's sandbox must let forks make their namespaces, so each
   * fork installs the function filter on itself ({@code _KILN_CHILD_SECCOMP}, a BPF program at /run/kiln).
   */
  @Test
  void forkedPythonEnvironmentsAreFilteredToo() throws Exception {
    Path bootstrap = server.dataDir().resolve("runtime").resolve("python").resolve("bootstrap.py");
    Assumptions.assumeTrue(Files.readString(bootstrap).contains("_KILN_CHILD_SECCOMP"),
        "this build's Python bootstrap does not install the forks' filter yet (_KILN_CHILD_SECCOMP)");
    int zygotesBefore = workerStats().path("zygotes").asInt();
    String name = deploy("seccomp-fork", "python3.12", "lambda_function.handler",
        FunctionZip.create().file("lambda_function.py", PYTHON).file("probe.py", PROBE).bytes());
    Awaitility.await("the function's zygote").atMost(Duration.ofSeconds(60))
        .until(() -> workerStats().path("zygotes").asInt() > zygotesBefore);
    Invocation call = invoke(name, "{}");
    assertThat(call.log()).as("a restored (forked) environment").contains("Restore Duration:");
    assertFiltered(call.ok());
    assertWorked(call.ok().path("work"), Map.of("threads", 8, "file", "file", "socket", "ping", "process", "child"));
  }
}
