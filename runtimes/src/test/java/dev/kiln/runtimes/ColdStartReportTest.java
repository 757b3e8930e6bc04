package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.runtimes.FakeRuntimeApi.Kind;
import dev.kiln.runtimes.FakeRuntimeApi.Posted;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Prints (does not assert) cold start figures: process start to the first response arriving at the Runtime API
 * server, 10 runs per runtime, for hello-world functions; with the bare interpreter start-up and AWS's official
 * Java client as baselines measured in the same run. Also prints the warm round trip (invoke queued → response
 * received) through the test server.
 */
class ColdStartReportTest extends RuntimeTestBase {
  static final int RUNS = 10;

  @Test
  void printColdStartFigures() throws Exception {
    RuntimeCatalog catalog = catalog();
    List<String> report = new ArrayList<>();
    double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    report.add(String.format(Locale.ROOT, "cold start to first response, %d runs each, ms (load average %.2f, %d cpus)",
        RUNS, load, Runtime.getRuntime().availableProcessors()));

    if (catalog.supported().contains("nodejs20.x")) {
      Path dir = fresh("node");
      Files.writeString(dir.resolve("index.js"), "exports.handler = async (event) => ({ hello: event.name });\n");
      report.add(line("nodejs20.x hello (async)", coldStarts("nodejs20.x", "index.handler", dir)));
      report.add(line("  baseline: node -e 0 (exit)", bare(List.of(RuntimeCatalog.NODE, "-e", "0"))));
      report.add(line("  warm round trip", warm("nodejs20.x", "index.handler", dir)));
    }
    if (catalog.supported().contains("python3.12")) {
      Path dir = fresh("python");
      Files.writeString(dir.resolve("lambda_function.py"),
          "def lambda_handler(event, context):\n    return {'hello': event['name']}\n");
      report.add(line("python3.12 hello", coldStarts("python3.12", "lambda_function.lambda_handler", dir)));
      report.add(line("  baseline: python3 -S -c 0 (exit)", bare(List.of(RuntimeCatalog.PYTHON, "-S", "-c", "0"))));
      report.add(line("  baseline: python3 -c 0 (exit)", bare(List.of(RuntimeCatalog.PYTHON, "-c", "0"))));
      report.add(line("  warm round trip", warm("python3.12", "lambda_function.lambda_handler", dir)));
    }
    Path java = fresh("java");
    JavaFunctions.classesWithLib(java);
    report.add(line("java25 hello Map->String (no Jackson)", coldStarts("java25", "dev.kiln.runtimes.fn.HelloMap", java)));
    report.add(line("java25 POJO->POJO (Jackson)", coldStarts("java25", "dev.kiln.runtimes.fn.HelloPojo", java)));
    report.add(line("java25 RequestStreamHandler", coldStarts("java25", "dev.kiln.runtimes.fn.Echo", java)));
    report.add(line("  baseline: official RIC 2.9.0, POJO->POJO", officialClient(java)));
    report.add(line("  baseline: java -version (exit)", bare(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-version"))));
    report.add(line("  warm round trip, HelloPojo", warm("java25", "dev.kiln.runtimes.fn.HelloPojo", java)));

    System.out.println();
    report.forEach(System.out::println);
    System.out.println();
  }

  private Path fresh(String name) throws IOException {
    return Files.createDirectories(task.resolve(name));
  }

  private long[] coldStarts(String runtime, String handler, Path dir) throws Exception {
    long[] ms = new long[RUNS];
    for (int i = 0; i < RUNS; i++) {
      try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
        var pending = own.invoke("{\"name\":\"cold\"}");
        RuntimeCommand cmd = catalog().command(runtime, handler).orElseThrow()
            .withHostPaths(catalog().runtimeDir(), dir);
        Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, dir, own);
        env.putAll(cmd.extraEnvironment());
        try (RuntimeProcess p = RuntimeProcess.start(cmd.command(), env, dir)) {
          Posted posted = pending.await();
          assertThat(posted.kind()).as(posted.body() + p.output()).isEqualTo(Kind.RESPONSE);
          ms[i] = TimeUnit.NANOSECONDS.toMillis(posted.arrivedNanos() - p.startedNanos);
        }
      }
    }
    return ms;
  }

  private long[] officialClient(Path dir) throws Exception {
    long[] ms = new long[RUNS];
    for (int i = 0; i < RUNS; i++) {
      try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
        var pending = own.invoke("{\"name\":\"cold\"}");
        try (RuntimeProcess p = OfficialJavaClientTest.startOfficialClient(dir, own, "dev.kiln.runtimes.fn.HelloPojo")) {
          Posted posted = pending.await();
          assertThat(posted.kind()).isEqualTo(Kind.RESPONSE);
          ms[i] = TimeUnit.NANOSECONDS.toMillis(posted.arrivedNanos() - p.startedNanos);
        }
      }
    }
    return ms;
  }

  private static long[] bare(List<String> command) throws Exception {
    long[] ms = new long[RUNS];
    for (int i = 0; i < RUNS; i++) {
      long t0 = System.nanoTime();
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      p.waitFor();
      ms[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }
    return ms;
  }

  /** Invoke-to-response through the test server on a warm process, in microseconds. */
  private long[] warm(String runtime, String handler, Path dir) throws Exception {
    int n = 200;
    long[] us = new long[n];
    try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
      RuntimeCommand cmd = catalog().command(runtime, handler).orElseThrow()
          .withHostPaths(catalog().runtimeDir(), dir);
      Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, dir, own);
      env.putAll(cmd.extraEnvironment());
      try (RuntimeProcess p = RuntimeProcess.start(cmd.command(), env, dir)) {
        for (int i = 0; i < 50; i++) {
          own.invoke("{\"name\":\"warm\"}").await();
        }
        for (int i = 0; i < n; i++) {
          long t0 = System.nanoTime();
          Posted posted = own.invoke("{\"name\":\"warm\"}").await();
          us[i] = TimeUnit.NANOSECONDS.toMicros(posted.arrivedNanos() - t0);
        }
      }
    }
    long[] sorted = us.clone();
    Arrays.sort(sorted);
    return new long[] {-1, sorted[n / 2], sorted[(int) (n * 0.99)]};
  }

  private static String line(String label, long[] values) {
    if (values.length == 3 && values[0] == -1) {
      return String.format(Locale.ROOT, "  %-42s p50 %d us, p99 %d us", label, values[1], values[2]);
    }
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    long p50 = (sorted[(sorted.length - 1) / 2] + sorted[sorted.length / 2]) / 2;
    return String.format(Locale.ROOT, "%-44s p50 %4d  min %4d  max %4d   %s", label, p50, sorted[0],
        sorted[sorted.length - 1], Arrays.toString(values));
  }
}
