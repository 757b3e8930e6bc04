package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.runtimes.FakeRuntimeApi.Kind;
import dev.kiln.runtimes.NodeSnapshots.Build;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Prints (does not assert) how long a Node.js function takes from process start to its first
 * {@code GET /invocation/next}, started plainly and restored from a start-up snapshot, 20 runs each, for a trivial
 * handler and for inits of about 100 ms of three kinds.
 */
class NodeSnapshotReportTest extends RuntimeTestBase {
  static final int RUNS = 20;
  static final String TRIVIAL = "exports.handler = async (event) => ({ hello: event.name });\n";
  /** About 100 ms of CPU with a small result: the primes below 15 million (a 4 MB typed array). */
  static final String CPU = """
      function primesBelow(n) {
        const composite = new Uint8Array(n);
        let count = 0;
        for (let i = 2; i < n; i++) {
          if (composite[i]) continue;
          count++;
          for (let j = i * i; j < n; j += i) composite[j] = 1;
        }
        const primes = new Uint32Array(count);
        for (let i = 2, k = 0; i < n; i++) if (!composite[i]) primes[k++] = i;
        return primes;
      }
      const primes = primesBelow(15_000_000);
      exports.handler = async (event) => ({ hello: event.name, count: primes.length });
      """;
  /** About 100 ms building a big heap: a Map of 150,000 small objects. */
  static final String TABLE = """
      const table = new Map();
      for (let i = 0; i < 150000; i++) table.set('k' + i, { i, root: Math.sqrt(i), name: 'item-' + i.toString(36) });
      exports.handler = async (event) => ({ hello: event.name, size: table.size });
      """;
  /** Requiring a dependency of 1.2 MB of code (8,000 functions, each called once at init). */
  static final String DEPENDENCY = """
      const dep = require('bigdep');
      exports.handler = async (event) => ({ hello: event.name, size: Object.keys(dep).length });
      """;

  @Test
  void printPlainStartVersusRestore() throws Exception {
    assumeTrue(catalog().supported().contains(NodeSnapshots.RUNTIME), "node is not installed");
    List<String> report = new ArrayList<>();
    double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    report.add(String.format(Locale.ROOT, "node %s: process start to first /next, %d runs each, ms (load average %.2f)",
        RuntimeCatalog.NODE, RUNS, load));
    Map<String, String> functions = new LinkedHashMap<>();
    functions.put("trivial handler", TRIVIAL);
    functions.put("init: ~100 ms CPU, small result", CPU);
    functions.put("init: ~100 ms building a 150k-entry Map", TABLE);
    functions.put("init: requiring a 1.2 MB dependency", DEPENDENCY);
    for (var fn : functions.entrySet()) {
      Path dir = Files.createDirectories(task.resolve(fn.getKey().replaceAll("\\W", "")));
      Files.writeString(dir.resolve("index.js"), fn.getValue());
      Files.createDirectories(dir.resolve("node_modules/bigdep"));
      Files.writeString(dir.resolve("node_modules/bigdep/index.js"), bigDependency());
      Path snapshotDir = Files.createDirectories(dir.resolve(".snapshot"));
      long t0 = System.nanoTime();
      Build build = NodeSnapshots.build(catalog(), "index.handler", dir, snapshotDir, Map.of());
      long buildMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertThat(build.exitCode()).as(build.output()).isZero();
      long[] plain = new long[RUNS];
      long[] restored = new long[RUNS];
      for (int i = 0; i < RUNS; i++) { // interleaved, so that load changes hit both alike
        plain[i] = firstNextMs(dir, null);
        restored[i] = firstNextMs(dir, snapshotDir);
      }
      report.add(String.format(Locale.ROOT, "%s (snapshot build %d ms, blob %.1f MB)", fn.getKey(), buildMs,
          Files.size(build.blob()) / 1e6));
      report.add(line("  plain start", plain));
      report.add(line("  restore", restored));
    }
    System.out.println();
    report.forEach(System.out::println);
    System.out.println();
  }

  private static String bigDependency() {
    StringBuilder js = new StringBuilder();
    for (int i = 0; i < 8000; i++) {
      js.append(String.format(Locale.ROOT, "exports.f%1$d = function f%1$d(a, b) { const x = a * %1$d + b; "
          + "if (x > %1$d) { return { value: x, name: 'f%1$d', list: [a, b, %1$d] }; } return x - %1$d; };%n", i));
    }
    js.append("for (const k of Object.keys(exports)) exports[k](1, 2);\n");
    return js.toString();
  }

  private long firstNextMs(Path dir, Path snapshotDir) throws Exception {
    try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
      var pending = own.invoke("{\"name\":\"cold\"}");
      try (RuntimeProcess p = snapshotDir == null
          ? NodeSnapshots.plain(catalog(), "index.handler", dir, own)
          : NodeSnapshots.restore(catalog(), "index.handler", dir, snapshotDir, own, Map.of())) {
        long next = own.firstNext().get(30, TimeUnit.SECONDS);
        assertThat(pending.await().kind()).as(p.output()).isEqualTo(Kind.RESPONSE);
        return TimeUnit.NANOSECONDS.toMillis(next - p.startedNanos);
      }
    }
  }

  private static String line(String label, long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    long p50 = sorted[(sorted.length - 1) / 2];
    long p99 = sorted[(int) Math.ceil(sorted.length * 0.99) - 1];
    return String.format(Locale.ROOT, "%-16s p50 %4d  p99 %4d  min %4d   %s", label, p50, p99, sorted[0],
        Arrays.toString(values));
  }
}
