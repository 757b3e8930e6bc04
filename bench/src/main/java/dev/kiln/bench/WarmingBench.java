package dev.kiln.bench;

import dev.kiln.warming.FixedKeepAlive;
import dev.kiln.warming.HybridHistogramPolicy;
import dev.kiln.warming.InvocationHistory;
import dev.kiln.warming.WarmPlan;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the warming policy adds to every invocation in the worker, in nanoseconds (JMH, average
 * time): recording the arrival and the end in the function's history and asking the policy for the
 * plan, for a busy function (idle times of milliseconds), a timer (a beat is found, so a pre-warm
 * plan is built per call) and under the fixed keep-alive; alone and with two threads on one function.
 *
 * <pre>
 * J="java --sun-misc-unsafe-memory-access=allow -cp bench/target/kiln-bench.jar"
 * $J org.openjdk.jmh.Main WarmingBench -wi 2 -i 3
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms256m", "-Xmx256m", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class WarmingBench {
  private final HybridHistogramPolicy histogram =
      new HybridHistogramPolicy(HybridHistogramPolicy.Settings.defaults(Duration.ofMinutes(10)));
  private final FixedKeepAlive fixed = new FixedKeepAlive(Duration.ofMinutes(10));
  private InvocationHistory busy;
  private InvocationHistory timer;
  private InvocationHistory fixedHistory;
  private long clock;
  private long tick;

  @Setup
  public void setUp() {
    busy = histogram.newHistory();
    timer = histogram.newHistory();
    fixedHistory = fixed.newHistory();
    for (int i = 0; i < 10_000; i++) {
      busy.arrived(i * 7L);
      busy.ended(i * 7L + 3);
    }
    for (int i = 0; i < 10; i++) {
      timer.arrived(i * 60_000L);
      timer.ended(i * 60_000L + 100);
    }
  }

  @Benchmark
  public WarmPlan histogramBusyFunction() {
    long t = clock += 7;
    busy.arrived(t);
    int level = busy.ended(t + 3);
    return histogram.plan(busy, level, t + 3);
  }

  @Benchmark
  @Threads(2)
  public WarmPlan histogramBusyFunctionTwoThreads() {
    long t = System.nanoTime() / 1_000_000;
    busy.arrived(t);
    int level = busy.ended(t + 3);
    return histogram.plan(busy, level, t + 3);
  }

  @Benchmark
  public WarmPlan histogramTimer() {
    long t = 600_000 + (tick += 60_000);
    timer.arrived(t);
    int level = timer.ended(t + 100);
    return histogram.plan(timer, level, t + 100);
  }

  @Benchmark
  public WarmPlan fixedKeepAlive() {
    long t = clock += 7;
    fixedHistory.arrived(t);
    int level = fixedHistory.ended(t + 3);
    return fixed.plan(fixedHistory, level, t + 3);
  }
}
