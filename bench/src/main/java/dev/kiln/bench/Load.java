package dev.kiln.bench;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * A closed-loop load: N client threads, each sending its next invoke as soon as the previous one
 * returned. A warm-up runs first (at least {@code warmup}, and until every thread has done
 * {@code minWarmInvokes} successful invokes, so each concurrent request has found its own warm
 * environment); then all threads measure together for {@code measure}.
 */
final class Load {
  static final byte[] PAYLOAD = "{}".getBytes(StandardCharsets.UTF_8);
  /** A warm-up never runs longer than this, even when invokes keep failing. */
  private static final Duration MAX_WARMUP = Duration.ofSeconds(60);

  record Result(String label, int concurrency, Samples latencies, long errors, long warmupErrors,
      double seconds, String firstError, CpuMeter.Usage cpu) {
    /** A run that did not happen: every figure is NaN. */
    static Result empty(String label) {
      return new Result(label, 0, new Samples(), 0, 0, Double.NaN, null, CpuMeter.Usage.NONE);
    }

    long ok() {
      return latencies.size();
    }

    double throughput() {
      return ok() / seconds;
    }

    double p50Millis() {
      return latencies.percentile(50) / 1e6;
    }

    double p99Millis() {
      return latencies.percentile(99) / 1e6;
    }

    String summary() {
      return String.format("%-22s c=%-2d %,8d ok %s in %.1f s = %,9.0f inv/s  p50 %7.3f ms  p99 %7.3f ms  max %7.1f ms%n"
              + "%31s %s", label, concurrency, ok(), errors == 0 ? "" : "(" + errors + " FAILED)", seconds,
          throughput(), p50Millis(), p99Millis(), latencies.max() / 1e6, "", cpu)
          + (warmupErrors == 0 ? "" : "\n" + " ".repeat(31) + " " + warmupErrors + " failures during the warm-up")
          + (firstError == null ? "" : "\n" + " ".repeat(31) + " first failure: " + firstError);
    }
  }

  private Load() {}

  static Result run(String label, InvokeClient client, String function, int threads, Duration warmup,
      int minWarmInvokes, Duration measure, CpuMeter meter) throws InterruptedException {
    return run(label, client, List.of(function), threads, warmup, minWarmInvokes, measure, meter);
  }

  /** As above, each thread taking the functions in turn (thread i starts at function i). */
  static Result run(String label, InvokeClient client, List<String> functions, int threads, Duration warmup,
      int minWarmInvokes, Duration measure, CpuMeter meter) throws InterruptedException {
    long[] window = new long[2]; // measurement start and end, set by the barrier action
    CpuMeter.Snapshot[] cpuStart = new CpuMeter.Snapshot[1];
    CyclicBarrier measureTogether = new CyclicBarrier(threads, () -> {
      cpuStart[0] = meter.take();
      window[0] = System.nanoTime();
      window[1] = window[0] + measure.toNanos();
    });
    LongAdder errors = new LongAdder();
    LongAdder warmupErrors = new LongAdder();
    AtomicReference<String> firstError = new AtomicReference<>();
    List<Samples> perThread = new ArrayList<>();
    List<Thread> workers = new ArrayList<>();
    long warmupEnd = System.nanoTime() + warmup.toNanos();
    long warmupLimit = System.nanoTime() + MAX_WARMUP.toNanos();
    for (int t = 0; t < threads; t++) {
      int first = t;
      Samples samples = new Samples(1 << 14);
      perThread.add(samples);
      workers.add(Thread.ofPlatform().name("load-" + t).start(() -> {
        try {
          int turn = first;
          int warmed = 0;
          while (true) {
            long now = System.nanoTime();
            if ((now >= warmupEnd && warmed >= minWarmInvokes) || now >= warmupLimit) {
              break;
            }
            if (once(client, functions.get(turn++ % functions.size()), null, warmupErrors, firstError)) {
              warmed++;
            }
          }
          measureTogether.await();
          long end = window[1];
          while (true) {
            long t0 = System.nanoTime();
            if (t0 >= end) {
              break;
            }
            once(client, functions.get(turn++ % functions.size()), samples, errors, firstError);
          }
        } catch (Exception e) {
          firstError.compareAndSet(null, e.toString());
        }
      }));
    }
    for (Thread w : workers) {
      w.join();
    }
    CpuMeter.Snapshot cpuEnd = meter.take();
    Samples all = new Samples(1 << 16);
    perThread.forEach(all::addAll);
    double seconds = (window[1] - window[0]) / 1e9;
    return new Result(label, threads, all, errors.sum(), warmupErrors.sum(), seconds, firstError.get(),
        CpuMeter.usage(cpuStart[0], cpuEnd));
  }

  /** One invoke; records its latency into {@code samples} (when given) if it succeeded. */
  private static boolean once(InvokeClient client, String function, Samples samples, LongAdder errors,
      AtomicReference<String> firstError) {
    long t0 = System.nanoTime();
    try {
      InvokeClient.Reply reply = client.invoke(function, PAYLOAD, false);
      long elapsed = System.nanoTime() - t0;
      if (reply.ok()) {
        if (samples != null) {
          samples.add(elapsed);
        }
        return true;
      }
      errors.increment();
      firstError.compareAndSet(null, reply.toString());
    } catch (Exception e) {
      errors.increment();
      firstError.compareAndSet(null, e.toString());
      pause();
    }
    return false;
  }

  private static void pause() {
    try {
      Thread.sleep(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
