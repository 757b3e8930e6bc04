package dev.kiln.bench;

import dev.kiln.admission.Admission;
import dev.kiln.admission.AdmissionSettings;
import dev.kiln.admission.Permit;
import dev.kiln.admission.Throttled;
import dev.kiln.admission.TokenBucket;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * What admission adds to every invocation, in nanoseconds per operation (JMH, average time): taking
 * and releasing a concurrency slot (unreserved and reserved, alone and with 2 and 4 threads on the
 * same function), a throttled admit, a new-environment check with tokens to spare, and one token
 * bucket take. The baselines in the same run are what the hot path is built from: an AtomicInteger
 * increment and decrement pair and a ConcurrentHashMap lookup are the floor, System.nanoTime is
 * part of every bucket operation.
 *
 * <pre>
 * mvn -B -q install -DskipTests
 * J="java --sun-misc-unsafe-memory-access=allow -cp bench/target/kiln-bench.jar"
 * $J org.openjdk.jmh.Main AdmissionBench                          # all 13, about 2 minutes
 * $J org.openjdk.jmh.Main 'AdmissionBench.admit.*' -wi 2 -i 3     # a subset, shorter
 * </pre>
 *
 * Limits are set so high that nothing is ever throttled except in {@link #admitThrottled}; token
 * buckets refill faster than any thread can drain them.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
// JMH 1.37 still calls sun.misc.Unsafe, which JDK 25 warns about unless allowed.
@Fork(value = 1, jvmArgsAppend = {"-Xms256m", "-Xmx256m", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class AdmissionBench {
  private static final String ACCOUNT = "000000000000";
  private static final String FUNCTION = "hello";
  private static final String RESERVED = "reserved";
  private static final String ZERO = "zero";
  /** Refill per second so high that a bucket is always full again by the next take. */
  private static final double PLENTY = 1e15;

  private Admission admission;
  private TokenBucket bucket;
  private final AtomicInteger counter = new AtomicInteger();
  private final java.util.concurrent.ConcurrentHashMap<String, Object> map =
      new java.util.concurrent.ConcurrentHashMap<>();

  @Setup
  public void setUp() {
    var settings = new AdmissionSettings(1_000_000, 100, Integer.MAX_VALUE, PLENTY, Integer.MAX_VALUE, PLENTY);
    admission = new Admission(settings, System::nanoTime, account -> Map.of(RESERVED, 500_000, ZERO, 0));
    bucket = new TokenBucket(Integer.MAX_VALUE, PLENTY, System.nanoTime());
    map.put(FUNCTION, new Object());
    // Create the account and function state outside the measurement.
    admission.admit(ACCOUNT, FUNCTION).close();
    admission.admit(ACCOUNT, RESERVED).close();
    admission.admitNewEnvironment(ACCOUNT, FUNCTION);
  }

  // ---- baselines ----

  @Benchmark
  public int baselineAtomicIncrementDecrement() {
    counter.incrementAndGet();
    return counter.decrementAndGet();
  }

  @Benchmark
  public Object baselineMapLookup() {
    return map.get(FUNCTION);
  }

  @Benchmark
  public long baselineNanoTime() {
    return System.nanoTime();
  }

  // ---- concurrency slots ----

  @Benchmark
  public Permit admitAndClose() {
    Permit permit = admission.admit(ACCOUNT, FUNCTION);
    permit.close();
    return permit;
  }

  @Benchmark
  @Threads(2)
  public Permit admitAndClose2Threads() {
    Permit permit = admission.admit(ACCOUNT, FUNCTION);
    permit.close();
    return permit;
  }

  @Benchmark
  @Threads(4)
  public Permit admitAndClose4Threads() {
    Permit permit = admission.admit(ACCOUNT, FUNCTION);
    permit.close();
    return permit;
  }

  @Benchmark
  public Permit admitReservedAndClose() {
    Permit permit = admission.admit(ACCOUNT, RESERVED);
    permit.close();
    return permit;
  }

  @Benchmark
  @Threads(4)
  public Permit admitReservedAndClose4Threads() {
    Permit permit = admission.admit(ACCOUNT, RESERVED);
    permit.close();
    return permit;
  }

  /** A function with reserved concurrency 0: the cost of saying no (a stackless exception). */
  @Benchmark
  public Object admitThrottled() {
    try {
      return admission.admit(ACCOUNT, ZERO);
    } catch (Throttled t) {
      return t.reason();
    }
  }

  // ---- scaling rate ----

  @Benchmark
  public String admitNewEnvironment() {
    admission.admitNewEnvironment(ACCOUNT, FUNCTION);
    return FUNCTION;
  }

  @Benchmark
  @Threads(4)
  public String admitNewEnvironment4Threads() {
    admission.admitNewEnvironment(ACCOUNT, FUNCTION);
    return FUNCTION;
  }

  @Benchmark
  public boolean tokenBucketTryTake() {
    return bucket.tryTake(System.nanoTime());
  }

  @Benchmark
  @Threads(2)
  public boolean tokenBucketTryTake2Threads() {
    return bucket.tryTake(System.nanoTime());
  }
}
