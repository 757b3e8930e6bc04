package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.runtimes.FakeRuntimeApi.Kind;
import dev.kiln.runtimes.FakeRuntimeApi.Posted;
import dev.kiln.runtimes.JavaAot.Snapshot;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prints (does not assert) Java cold starts with the runtime-wide AOT cache (a plain start) and with the
 * function's own AOT cache: process start to the first {@code /invocation/next} and to the first response, for
 * functions whose initialization loads a few hundred classes.
 */
class JavaAotColdStartReportTest extends RuntimeTestBase {
  static final int RUNS = 15;
  static final String RUNTIME = "java25";

  @TempDir Path dirs;

  @Test
  void printColdStartsWithAndWithoutTheFunctionsCache() throws Exception {
    assumeTrue(catalog().supported().contains(RUNTIME), "no java runtime");
    JavaFunctions.classesWithLib(task);
    JavaAot aot = new JavaAot(catalog(), RUNTIME, task, dirs, this::track);
    List<String> report = new ArrayList<>();
    double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    report.add(String.format(Locale.ROOT, "java25 cold start, %d runs each, ms from process start (load average %.2f,"
        + " %d cpus)", RUNS, load, Runtime.getRuntime().availableProcessors()));
    for (String handler : List.of("dev.kiln.runtimes.fn.HeavyInit", "dev.kiln.runtimes.fn.HelloPojo")) {
      String event = "{\"text\":\"a cold start\",\"name\":\"cold\"}";
      Snapshot snapshot = aot.train(handler, api);
      long[][] plain = new long[2][RUNS];
      long[][] cached = new long[2][RUNS];
      for (int i = 0; i < RUNS; i++) { // interleaved, so that both see the same machine load
        run(plain, i, event, own -> RuntimeProcess.start(catalog(), RUNTIME, handler, task, own));
        run(cached, i, event, own -> aot.restore(snapshot, handler, own, null));
      }
      String name = handler.substring(handler.lastIndexOf('.') + 1);
      report.add(line(name + ", runtime-wide cache: first /next", plain[0]));
      report.add(line(name + ", runtime-wide cache: first response", plain[1]));
      report.add(line(name + ", function's cache:   first /next", cached[0]));
      report.add(line(name + ", function's cache:   first response", cached[1]));
    }
    System.out.println();
    report.forEach(System.out::println);
    System.out.println();
  }

  interface Starter {
    RuntimeProcess start(FakeRuntimeApi api) throws IOException;
  }

  private static void run(long[][] ms, int i, String event, Starter starter) throws Exception {
    try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
      var pending = own.invoke(event);
      try (RuntimeProcess p = starter.start(own)) {
        Posted posted = pending.await();
        assertThat(posted.kind()).as(posted.body() + p.output()).isEqualTo(Kind.RESPONSE);
        ms[0][i] = TimeUnit.NANOSECONDS.toMillis(own.firstNextNanos() - p.startedNanos);
        ms[1][i] = TimeUnit.NANOSECONDS.toMillis(posted.arrivedNanos() - p.startedNanos);
      }
    }
  }

  private static String line(String label, long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    long p50 = (sorted[(sorted.length - 1) / 2] + sorted[sorted.length / 2]) / 2;
    long p99 = sorted[(int) Math.ceil(sorted.length * 0.99) - 1];
    return String.format(Locale.ROOT, "  %-52s p50 %4d  p99 %4d  min %4d   %s", label, p50, p99, sorted[0],
        Arrays.toString(values));
  }
}
