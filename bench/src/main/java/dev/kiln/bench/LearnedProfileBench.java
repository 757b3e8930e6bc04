package dev.kiln.bench;

import dev.kiln.sandbox.Launch;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.sandbox.SandboxBackend;
import dev.kiln.sandbox.SandboxBackends;
import dev.kiln.sandbox.SandboxLimits;
import dev.kiln.sandbox.SeccompMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What learned system call profiles ({@code KILN_SECCOMP_PROFILE}) cost, in this process with real crun sandboxes,
 * each figure next to its baseline from the same run, rounds alternating between the two:
 *
 * <ol>
 *   <li>cold start: an enforced environment's sandbox is made on demand ({@code prepareConfined}); a default one
 *       is taken from the pool, already made. Figures: confined prepare vs a default prepare (what the pool does
 *       in the background) vs taking a ready sandbox;
 *   <li>the training run: a Python start and work under strace vs the same untraced;
 *   <li>per call: a Python loop of 200,000 stat calls in a confined sandbox vs a default one.
 * </ol>
 *
 * Root with crun: {@code java -cp bench/target/kiln-bench.jar dev.kiln.bench.LearnedProfileBench [rounds]}.
 */
public final class LearnedProfileBench {
  private static final String WORK = "import os, time\n"
      + "t = time.perf_counter_ns()\n"
      + "for _ in range(200000): os.stat('/tmp')\n"
      + "print((time.perf_counter_ns() - t) // 200000)\n";
  private static final SandboxLimits LIMITS = new SandboxLimits(256, 64, 256, false);

  private LearnedProfileBench() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
    Path work = Files.createTempDirectory("kiln-profile-bench");
    try (SandboxBackend backend = SandboxBackends.detect(work.resolve("sandboxes"), null, SeccompMode.DEFAULT,
        List.of())) {
      if (!backend.name().equals("crun")) throw new IllegalStateException("needs crun sandboxes (root)");
      // Learn the work's profile once.
      Set<String> profile;
      try (Sandbox s = backend.prepare(LIMITS)) {
        var recording = s.recordSyscalls();
        run(s);
        profile = recording.stop();
      }
      System.out.printf("learned %d calls%n", profile.size());
      var confinedPrepare = new ArrayList<Long>();
      var defaultPrepare = new ArrayList<Long>();
      var poolTake = new ArrayList<Long>();
      var traced = new ArrayList<Long>();
      var untraced = new ArrayList<Long>();
      var confinedNs = new ArrayList<Long>();
      var defaultNs = new ArrayList<Long>();
      Sandbox ready = backend.prepare(LIMITS);
      for (int i = 0; i < rounds + 2; i++) {
        boolean keep = i >= 2; // the first rounds warm up the JVM's paths
        for (boolean confined : (i % 2 == 0 ? List.of(true, false) : List.of(false, true))) {
          long t0 = System.nanoTime();
          Sandbox s = confined ? backend.prepareConfined(LIMITS, profile) : backend.prepare(LIMITS);
          long made = System.nanoTime() - t0;
          long perCall = run(s);
          s.close();
          if (keep) {
            (confined ? confinedPrepare : defaultPrepare).add(made);
            (confined ? confinedNs : defaultNs).add(perCall);
          }
        }
        long t0 = System.nanoTime();
        Sandbox taken = ready; // what SandboxPool.take hands over when a sandbox is ready
        if (keep) poolTake.add(System.nanoTime() - t0);
        taken.close();
        ready = backend.prepare(LIMITS);
        for (boolean trace : (i % 2 == 0 ? List.of(true, false) : List.of(false, true))) {
          try (Sandbox s = backend.prepare(LIMITS)) {
            long t1 = System.nanoTime();
            var recording = trace ? s.recordSyscalls() : null;
            run(s);
            if (recording != null) recording.stop();
            if (keep) (trace ? traced : untraced).add(System.nanoTime() - t1);
          }
        }
      }
      ready.close();
      System.out.printf("1. sandbox for a cold start, p50 (p90) ms: confined on demand %s | default prepare %s |"
          + " ready pool sandbox %s%n", ms(confinedPrepare), ms(defaultPrepare), ms(poolTake));
      System.out.printf("2. python start + 200k stat calls, wall ms: traced (training run) %s | untraced %s%n",
          ms(traced), ms(untraced));
      System.out.printf("3. ns per stat call inside: confined %s | default filter %s%n", plain(confinedNs),
          plain(defaultNs));
    } finally {
      Cleanup.deleteTree(work);
    }
  }

  private static long run(Sandbox s) throws Exception {
    var lines = Collections.synchronizedList(new ArrayList<String>());
    s.launch(new Launch(List.of("/usr/bin/python3", "-c", WORK), Map.of(), null, 256), lines::add);
    var exit = s.exited().get(60, TimeUnit.SECONDS);
    if (exit.code() != 0 || lines.isEmpty()) throw new IllegalStateException("run failed: " + exit + " " + lines);
    return Long.parseLong(lines.getLast().strip());
  }

  private static long p(List<Long> v, int percentile) {
    var sorted = v.stream().sorted().toList();
    return sorted.get(Math.min(sorted.size() - 1, sorted.size() * percentile / 100));
  }

  private static String ms(List<Long> nanos) {
    return String.format("%.2f (%.2f)", p(nanos, 50) / 1e6, p(nanos, 90) / 1e6);
  }

  private static String plain(List<Long> v) {
    return p(v, 50) + " (p90 " + p(v, 90) + ")";
  }
}
