package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.runtimes.FakeRuntimeApi.Kind;
import dev.kiln.runtimes.FakeRuntimeApi.Posted;
import dev.kiln.runtimes.NodeSnapshots.Build;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Node.js start-up snapshots: built by node/snapshot.js, restored with node --snapshot-blob, served by runtime.js. */
class NodeSnapshotTest extends RuntimeTestBase {
  static final String RUNTIME = NodeSnapshots.RUNTIME;
  static final String MARK = "--kiln-end-of-output-test--";

  @TempDir Path snapshots;

  @BeforeAll
  static void nodeAvailable() {
    assumeTrue(catalog().supported().contains(RUNTIME), "node is not installed");
  }

  @Test
  void recipeReplacesTheBootstrapByTheSnapshot() {
    SnapshotRecipe recipe = NodeSnapshots.recipe(catalog());
    assertThat(recipe.kind()).isEqualTo("node-startup-snapshot");
    assertThat(recipe.file()).isEqualTo("node-startup.blob");
    assertThat(recipe.trainingCommand().subList(0, 2)).containsExactly("/bin/sh", "-c");
    assertThat(recipe.trainingCommand().subList(3, recipe.trainingCommand().size())).containsExactly("kiln-snapshot",
        "/usr/bin/node", "--snapshot-blob", "/run/kiln-output/node-startup.blob", "--build-snapshot",
        "/var/runtime/node/snapshot.js");
    RuntimeCommand plain = catalog().command(RUNTIME, "index.handler").orElseThrow();
    RuntimeCommand restored = recipe.restore().apply(plain);
    assertThat(restored.command()).containsExactly("/usr/bin/node", "--snapshot-blob", "/run/kiln/node-startup.blob");
    assertThat(restored.extraEnvironment()).isEqualTo(plain.extraEnvironment());
    assertThat(restored.marksEndOfOutput()).isTrue();
    assertThat(catalog().snapshotRecipe("python3.12")).isEmpty();
  }

  @Test
  void restoredFunctionServesWithItsInitDoneAtBuildTime() throws Exception {
    Path initLog = snapshots.resolve("init.log");
    write("index.js", """
        const fs = require('fs');
        const v8 = require('v8');
        const { lookup } = require('./lib/lookup');
        const { buildTable } = require('squares');
        fs.appendFileSync(%s, 'init ' + process.pid + '\\n');
        const table = buildTable(50000);          // the expensive part of the init
        const initPid = process.pid;
        const typeAtInit = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
        let restoredBy = null;
        v8.startupSnapshot.addDeserializeCallback(() => { restoredBy = process.pid; });
        let count = 0;
        exports.handler = async (event) => {
          count++;
          console.log('looking up', event.n);
          return {
            square: lookup(table, event.n), count, initPid, pid: process.pid, restoredBy, typeAtInit,
            type: process.env.AWS_LAMBDA_INITIALIZATION_TYPE, stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
            api: process.env.AWS_LAMBDA_RUNTIME_API, global: typeof awslambda.streamifyResponse,
          };
        };
        """.formatted(JSON.writeValueAsString(initLog.toString())));
    write("lib/lookup.js", "exports.lookup = (table, n) => table[n];\n");
    write("node_modules/squares/package.json", "{\"name\":\"squares\",\"exports\":{\".\":{\"require\":\"./lib/main.js\"}}}");
    write("node_modules/squares/lib/main.js",
        "exports.buildTable = (n) => Array.from({ length: n }, (_, i) => i * i);\n");

    Build build = NodeSnapshots.build(catalog(), "index.handler", task, snapshots, Map.of());
    assertThat(build.exitCode()).as(build.output()).isZero();
    assertThat(build.blob()).isRegularFile();
    assertThat(Files.readAllLines(initLog)).hasSize(1);

    RuntimeProcess p = track(NodeSnapshots.restore(catalog(), "index.handler", task, snapshots, api,
        Map.of("AWS_LAMBDA_LOG_STREAM_NAME", "restored-stream", RuntimeCommand.OUTPUT_MARK_VARIABLE, MARK)));
    for (int i = 1; i <= 2; i++) {
      var pending = api.invoke("{\"n\":" + (100 * i) + "}");
      Posted posted = pending.await();
      assertThat(posted.kind()).as(posted.body() + p.output()).isEqualTo(Kind.RESPONSE);
      Map<String, Object> body = json(posted.body());
      assertThat(body).containsEntry("square", 10000 * i * i).containsEntry("count", i)
          .containsEntry("pid", (int) p.pid()).containsEntry("restoredBy", (int) p.pid())
          .containsEntry("typeAtInit", "snap-start").containsEntry("type", "on-demand")
          .containsEntry("stream", "restored-stream").containsEntry("api", api.address())
          .containsEntry("global", "function");
      assertThat(body.get("initPid")).isNotEqualTo((int) p.pid());
      assertThat(awaitOutput(p, pending.requestId() + "\tINFO\tlooking up " + (100 * i)))
          .contains(pending.requestId() + "\tINFO\tlooking up " + (100 * i));
    }
    assertThat(awaitOutput(p, MARK)).contains(MARK);
    assertThat(Files.readAllLines(initLog)).as("init did not run again").hasSize(1);
  }

  @Test
  void twoRestoresOfOneSnapshotDrawDifferentRandomNumbers() throws Exception {
    write("index.js", """
        const crypto = require('crypto');
        const atInit = [Math.random(), crypto.randomUUID(), crypto.randomInt(1e12)];
        exports.handler = async () => ({ atInit, now: [Math.random(), crypto.randomUUID(), crypto.randomInt(1e12),
          globalThis.crypto.randomUUID()] });
        """);
    Build build = NodeSnapshots.build(catalog(), "index.handler", task, snapshots, Map.of());
    assertThat(build.exitCode()).as(build.output()).isZero();

    Map<String, Object> first = restoreAndInvoke();
    Map<String, Object> second = restoreAndInvoke();
    assertThat(first.get("atInit")).isEqualTo(second.get("atInit"));
    List<?> a = (List<?>) first.get("now");
    List<?> b = (List<?>) second.get("now");
    for (int i = 0; i < a.size(); i++) {
      assertThat(a.get(i)).as("value %d", i).isNotEqualTo(b.get(i));
    }
  }

  private Map<String, Object> restoreAndInvoke() throws Exception {
    try (FakeRuntimeApi own = FakeRuntimeApi.start();
        RuntimeProcess p = NodeSnapshots.restore(catalog(), "index.handler", task, snapshots, own, Map.of())) {
      Posted posted = own.invoke("{}").await();
      assertThat(posted.kind()).as(posted.body() + p.output()).isEqualTo(Kind.RESPONSE);
      return json(posted.body());
    }
  }

  @Test
  void esModuleFailsTheBuildWithAClearLastLine() throws Exception {
    write("index.mjs", "export const handler = async () => 1;\n");
    assertRefused("index.handler", Map.of(), "index.mjs is an ES module");
  }

  @Test
  void functionsThatCannotBeSnapshottedFailTheBuild() throws Exception {
    write("package.json", "{\"type\":\"module\"}");
    write("esm.js", "export const handler = async () => 1;\n");
    assertRefused("esm.handler", Map.of(), "esm.js is an ES module");

    Files.delete(task.resolve("package.json"));
    write("http.js", "require('node:http');\nexports.handler = async () => 1;\n");
    assertRefused("http.handler", Map.of(), "built-in module \"node:http\"");

    write("addon.js", "require('./native.node');\nexports.handler = async () => 1;\n");
    write("native.node", "not really a shared object");
    assertRefused("addon.handler", Map.of(), "native.node is a native addon");

    write("throws.js", "throw new RangeError('no config');\n");
    assertRefused("throws.handler", Map.of(), "initialization failed: RangeError: no config");

    write("server.js", "require('net').createServer().listen(0).unref();\nexports.handler = async () => 1;\n");
    assertRefused("server.handler", Map.of(), "left handles open: tcp");

    write("imports.js", "exports.handler = async () => (await import('node:os')).platform();\n");
    assertRefused("imports.handler", Map.of(), "imports.js uses import()");

    write("ticking.js", "setInterval(() => {}, 1000);\nexports.handler = async () => 1;\n");
    assertRefused("ticking.handler", Map.of("KILN_SNAPSHOT_SETTLE_MS", "300"), "left work pending");
  }

  private void assertRefused(String handler, Map<String, String> env, String reason) throws Exception {
    Build build = NodeSnapshots.build(catalog(), handler, task, snapshots, env);
    assertThat(build.exitCode()).as(build.output()).isEqualTo(1);
    assertThat(build.lastLine()).startsWith("kiln snapshot: not possible: ").contains(reason);
  }

  @Test
  void asynchronousInitThatFinishesIsSnapshottedAndLaterRequiresWork() throws Exception {
    write("index.js", """
        let config = null;
        setTimeout(() => { config = { loaded: true }; }, 100);
        exports.handler = async () => ({ ...config, lazy: require('./lazy').value, http: typeof require('http').get });
        """);
    write("lazy.js", "exports.value = 42;\n");
    Build build = NodeSnapshots.build(catalog(), "index.handler", task, snapshots, Map.of());
    assertThat(build.exitCode()).as(build.output()).isZero();
    assertThat(restoreAndInvoke()).containsEntry("loaded", true).containsEntry("lazy", 42)
        .containsEntry("http", "function");
  }

  @Test
  void streamingHandlerFromASnapshot() throws Exception {
    write("index.js", """
        exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
          responseStream.setContentType('text/plain');
          responseStream.write('hello ');
          responseStream.end(context.awsRequestId);
        });
        """);
    Build build = NodeSnapshots.build(catalog(), "index.handler", task, snapshots, Map.of());
    assertThat(build.exitCode()).as(build.output()).isZero();
    RuntimeProcess p = track(NodeSnapshots.restore(catalog(), "index.handler", task, snapshots, api, Map.of()));
    for (int i = 0; i < 2; i++) {
      var pending = api.invoke("{}");
      Posted posted = pending.await();
      assertThat(posted.kind()).as(p.output()).isEqualTo(Kind.RESPONSE);
      assertThat(posted.body()).isEqualTo("hello " + pending.requestId());
      assertThat(posted.headers().getFirst("Lambda-Runtime-Function-Response-Mode")).isEqualTo("streaming");
    }
  }
}
