package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A bounded load run (about 40 s, no timed assertions) at twice what the account allows: 24
 * closed-loop clients against --concurrency 12, where one function reserves 4 (8 clients) and four
 * unreserved functions share the other 8 (16 clients) with a mix of fast, slow, failing, crashing
 * and timing-out invocations. Then it checks what the rules promise:
 *
 * <ul>
 *   <li>never more admitted at once than allowed: strictly, by the functions' own clocks (a run
 *       lies inside the time its slot was held), and by the test's sampled in-flight counts,
 *       allowing each request {@link #TRANSIT_MS} of HTTP transit at either end, and by the
 *       node's own per-function counters sampled through GET /kiln/v1/stats;
 *   <li>throttles only where the rules say: the reserved function only with
 *       ReservedFunctionConcurrentInvocationLimitExceeded and only while 4 of its own were in
 *       flight; unreserved functions only with ConcurrentInvocationLimitExceeded and only while 8
 *       unreserved were in flight ("in flight" = admitted requests whose send-to-answer span
 *       overlaps the throttled request's, which the server's decision moment lies in);
 *   <li>no slot leaked: afterwards the node holds none, counted every throttle the clients saw,
 *       and both pools, then the whole account, fill exactly again.
 * </ul>
 */
class AdmissionLoadTest extends AdmissionTestBase {
  private static final int LIMIT = 12;
  private static final int RESERVED = 4;
  private static final int POOL = LIMIT - RESERVED;
  private static final long LOAD_MS = 40_000;
  /**
   * HTTP transit allowed at each end of a request when counting admitted requests in flight from
   * the test's side. Under a loaded 2-core machine the answer has been seen to arrive up to ~400 ms
   * after the handler returned; the functions' own clocks give the strict check.
   */
  private static final long TRANSIT_MS = 500;
  private static final long SAMPLE_EVERY_MS = 10;
  private static final long STATS_EVERY_MS = 25;

  enum Group {
    RESERVED,
    UNRESERVED
  }

  @Override
  protected List<String> serverArgs() {
    // Scaling is generous so that only concurrency throttles: every crash and timeout costs a new
    // environment.
    return List.of("--concurrency", String.valueOf(LIMIT), "--scaling-burst", "200", "--scaling-rate", "200");
  }

  /** One kind of client: which function, how it picks its next call, and its think time. */
  record Profile(String function, Group group, int clients, Function<ThreadLocalRandom, Call> next, long thinkMs) {}

  /** A sample of the live client-side in-flight counts (sent, not yet answered). */
  record Sample(long atMicros, int reserved, int unreserved) {}

  @Test
  void twice_the_allowed_concurrency_is_admitted_within_the_limits_throttled_by_the_rules_and_leaks_nothing()
      throws Exception {
    String reserved = deployAdmission("load-reserved", 10);
    String fast = deployAdmission("load-fast", 10);
    String slow = deployAdmission("load-slow", 10);
    String failing = deployAdmission("load-failing", 10);
    String timeout = deployAdmission("load-timeout", 1);
    putReserved(reserved, RESERVED);
    assertThat(unreserved()).isEqualTo(POOL);

    List<Profile> profiles =
        List.of(
            new Profile(reserved, Group.RESERVED, 2 * RESERVED,
                r -> r.nextInt(10) == 0
                    ? new Call(reserved, newTag(), "fail", 50)
                    : new Call(reserved, newTag(), "ok", r.nextLong(100, 600)), 0),
            new Profile(fast, Group.UNRESERVED, 4, r -> new Call(fast, newTag(), "ok", r.nextLong(0, 5)), 10),
            new Profile(slow, Group.UNRESERVED, 5, r -> new Call(slow, newTag(), "ok", r.nextLong(400, 1200)), 0),
            new Profile(failing, Group.UNRESERVED, 4,
                r -> r.nextInt(5) < 3
                    ? new Call(failing, newTag(), "fail", r.nextLong(50, 300))
                    : new Call(failing, newTag(), "crash", 50), 0),
            new Profile(timeout, Group.UNRESERVED, 3, r -> new Call(timeout, newTag(), "hang", 0), 0));
    assertThat(profiles.stream().mapToInt(Profile::clients).sum()).isEqualTo(2 * LIMIT);
    Map<String, Group> groupOf = profiles.stream().collect(Collectors.toMap(Profile::function, Profile::group));

    // ---- the run ----
    JsonNode throttlesBefore = stats().path("throttles");
    ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    Map<Group, AtomicInteger> live = new EnumMap<>(Group.class);
    live.put(Group.RESERVED, new AtomicInteger());
    live.put(Group.UNRESERVED, new AtomicInteger());
    List<Sample> samples = new ArrayList<>();
    AtomicBoolean sampling = new AtomicBoolean(true);
    Thread sampler =
        Thread.ofPlatform()
            .name("admission-sampler")
            .start(
                () -> {
                  while (sampling.get()) {
                    samples.add(
                        new Sample(nowMicros(), live.get(Group.RESERVED).get(), live.get(Group.UNRESERVED).get()));
                    sleep(SAMPLE_EVERY_MS);
                  }
                });
    // The node's own counters, read through GET /kiln/v1/stats while the load runs.
    List<JsonNode> serverSamples = new ArrayList<>();
    Thread statsSampler =
        Thread.ofPlatform()
            .name("admission-stats-sampler")
            .start(
                () -> {
                  while (sampling.get()) {
                    serverSamples.add(stats());
                    sleep(STATS_EVERY_MS);
                  }
                });
    long endNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LOAD_MS);
    List<Future<?>> clients = new ArrayList<>();
    for (Profile p : profiles) {
      for (int i = 0; i < p.clients(); i++) {
        clients.add(
            pool.submit(
                () -> {
                  ThreadLocalRandom random = ThreadLocalRandom.current();
                  while (System.nanoTime() < endNanos) {
                    Call c = p.next().apply(random);
                    AtomicInteger counter = live.get(p.group());
                    counter.incrementAndGet();
                    Outcome o;
                    try {
                      o = call(c);
                    } finally {
                      counter.decrementAndGet();
                    }
                    outcomes.add(o);
                    if (o.throttled()) {
                      sleep(random.nextLong(50, 150));
                    } else if (p.thinkMs() > 0) {
                      sleep(p.thinkMs());
                    }
                  }
                  return null;
                }));
      }
    }
    for (Future<?> client : clients) {
      client.get(LOAD_MS + 60_000, TimeUnit.MILLISECONDS);
    }
    sampling.set(false);
    sampler.join();
    statsSampler.join();
    List<Outcome> all = new ArrayList<>(outcomes);
    all.sort(Comparator.comparingLong(Outcome::sentMicros));

    // ---- what happened ----
    Map<String, Long> byFunctionAndStatus =
        all.stream()
            .collect(
                Collectors.groupingBy(
                    o -> o.call().function().replaceAll("-[0-9a-f]{8}$", "") + " " + o.call().action() + " "
                        + (o.throttled() ? "429 " + o.reason() : o.status() + (o.functionError() == null ? "" : " " + o.errorType())),
                    TreeMap::new,
                    Collectors.counting()));
    int maxLiveReserved = samples.stream().mapToInt(Sample::reserved).max().orElse(0);
    int maxLiveUnreserved = samples.stream().mapToInt(Sample::unreserved).max().orElse(0);

    // 1. Every answer is what its call asked for, or a throttle with its group's Reason.
    for (Outcome o : all) {
      Group g = groupOf.get(o.call().function());
      if (o.throttled()) {
        assertThrottled(o, g == Group.RESERVED ? RESERVED_CONCURRENT : CONCURRENT, 1, 60);
        continue;
      }
      assertThat(o.status()).as("%s", o).isEqualTo(200);
      switch (o.call().action()) {
        case "ok" -> assertThat(o.functionError()).as("%s", o).isNull();
        case "fail" -> assertThat(o.errorType()).as("%s", o).isEqualTo("Error");
        case "crash" -> assertThat(o.errorType()).as("%s", o).isEqualTo("Runtime.ExitError");
        case "hang" -> assertThat(o.errorType()).as("%s", o).isEqualTo("Sandbox.Timedout");
        default -> throw new AssertionError(o);
      }
    }
    List<Outcome> admittedReserved = admitted(all, groupOf, Group.RESERVED);
    List<Outcome> admittedUnreserved = admitted(all, groupOf, Group.UNRESERVED);
    List<Outcome> throttledReserved = throttled(all, groupOf, Group.RESERVED);
    List<Outcome> throttledUnreserved = throttled(all, groupOf, Group.UNRESERVED);

    // 2. Strict: by the functions' own clocks, never more running at once than allowed.
    int runReserved = maxOverlap(admittedReserved);
    int runUnreserved = maxOverlap(admittedUnreserved);
    List<Outcome> admittedAll = new ArrayList<>(admittedReserved);
    admittedAll.addAll(admittedUnreserved);
    int runAll = maxOverlap(admittedAll);

    // 3. Sampled client-side counts of admitted requests in flight, allowing transit at both ends.
    int[] sampledReserved = sampledMax(samples, admittedReserved);
    String reservedWitness = witness.toString();
    int[] sampledUnreserved = sampledMax(samples, admittedUnreserved);
    String unreservedWitness = witness.toString();
    String transit = transitFigures(all);

    // 4. The node's counters: one counter each, so each sample is exact (a sum of several would not be).
    int serverReserved = 0;
    int serverUnreservedFunction = 0;
    int serverAccount = 0;
    for (JsonNode sample : serverSamples) {
      serverAccount = Math.max(serverAccount, sample.path("concurrency").asInt());
      for (var e : sample.path("functionConcurrency").properties()) {
        if (e.getKey().equals(reserved)) {
          serverReserved = Math.max(serverReserved, e.getValue().asInt());
        } else {
          serverUnreservedFunction = Math.max(serverUnreservedFunction, e.getValue().asInt());
        }
      }
    }
    String server =
        String.format(
            "GET /kiln/v1/stats (%d samples): max concurrency of the reserved function %d, of one unreserved "
                + "function %d, of the account %d",
            serverSamples.size(), serverReserved, serverUnreservedFunction, serverAccount);

    String summary =
        String.format(
            "%n===== AdmissionLoadTest: %d invokes in %d s by %d clients (limit %d: reserved %d + pool %d) =====%n"
                + "%s%n"
                + "max live client in-flight (sampled every %d ms, %d samples): reserved %d, unreserved %d%n"
                + "max admitted in flight, sampled client-side: reserved %d (%d beyond %d ms of transit), "
                + "unreserved %d (%d beyond transit)%n"
                + "max running at once by the functions' clocks: reserved %d, unreserved %d, all %d%n"
                + "throttled: reserved %d, unreserved %d%n"
                + "%s%n"
                + "%s%n",
            all.size(), LOAD_MS / 1000, 2 * LIMIT, LIMIT, RESERVED, POOL,
            byFunctionAndStatus.entrySet().stream()
                .map(e -> String.format("  %-40s %6d", e.getKey(), e.getValue()))
                .collect(Collectors.joining("\n")),
            SAMPLE_EVERY_MS, samples.size(), maxLiveReserved, maxLiveUnreserved,
            sampledReserved[0], sampledReserved[1], TRANSIT_MS, sampledUnreserved[0], sampledUnreserved[1],
            runReserved, runUnreserved, runAll, throttledReserved.size(), throttledUnreserved.size(), transit, server);
    System.out.println(summary);

    assertThat(runReserved).as("reserved running at once" + summary).isLessThanOrEqualTo(RESERVED);
    assertThat(runUnreserved).as("unreserved running at once" + summary).isLessThanOrEqualTo(POOL);
    assertThat(runAll).as("all running at once" + summary).isLessThanOrEqualTo(LIMIT);
    assertThat(sampledReserved[1])
        .as("reserved admitted in flight (sampled) %s%s", reservedWitness, summary)
        .isLessThanOrEqualTo(RESERVED);
    assertThat(sampledUnreserved[1])
        .as("unreserved admitted in flight (sampled) %s%s", unreservedWitness, summary)
        .isLessThanOrEqualTo(POOL);

    assertThat(serverReserved).as("reserved function concurrency by the node" + summary).isLessThanOrEqualTo(RESERVED);
    assertThat(serverUnreservedFunction)
        .as("an unreserved function's concurrency by the node" + summary)
        .isLessThanOrEqualTo(POOL);

    // The load really pressed on both limits.
    assertThat(maxLiveReserved).as("reserved clients in flight" + summary).isGreaterThan(RESERVED);
    assertThat(maxLiveUnreserved).as("unreserved clients in flight" + summary).isGreaterThan(POOL);
    assertThat(throttledReserved).as("the reserved function was throttled at times" + summary).isNotEmpty();
    assertThat(throttledUnreserved).as("unreserved functions were throttled at times" + summary).isNotEmpty();
    assertThat(runReserved).as("the reservation was used to the full" + summary).isEqualTo(RESERVED);

    // 5. Throttled only when full: while a throttled request was in flight, at least the limit of
    // admitted requests of its group were in flight too.
    for (Outcome t : throttledReserved) {
      assertThat(overlapping(admittedReserved, t))
          .as("reserved function throttled below its reservation: %s%s", t, summary)
          .isGreaterThanOrEqualTo(RESERVED);
    }
    for (Outcome t : throttledUnreserved) {
      assertThat(overlapping(admittedUnreserved, t))
          .as("unreserved function throttled while the pool had room: %s%s", t, summary)
          .isGreaterThanOrEqualTo(POOL);
    }

    // 6. No leaked slot: the node holds none once every answer is in...
    awaitNoSlotsHeld();
    // ...and counted exactly the throttles the clients saw...
    JsonNode throttlesAfter = stats().path("throttles");
    assertThat(throttlesAfter.path(RESERVED_CONCURRENT).asLong() - throttlesBefore.path(RESERVED_CONCURRENT).asLong())
        .as("ReservedFunctionConcurrentInvocationLimitExceeded counted by the node")
        .isEqualTo(throttledReserved.size());
    assertThat(throttlesAfter.path(CONCURRENT).asLong() - throttlesBefore.path(CONCURRENT).asLong())
        .as("ConcurrentInvocationLimitExceeded counted by the node")
        .isEqualTo(throttledUnreserved.size());
    // ...and both pools fill exactly (one more each is throttled)...
    List<Call> refill = new ArrayList<>(calls(reserved, RESERVED + 1, "ok", 2000));
    refill.addAll(calls(slow, POOL + 1, "ok", 2000));
    List<Outcome> after = parallel(refill);
    assertThat(admitted(after, groupOf, Group.RESERVED)).as("%s", after).hasSize(RESERVED)
        .allSatisfy(AdmissionTestBase::assertOk);
    assertThat(admitted(after, groupOf, Group.UNRESERVED)).as("%s", after).hasSize(POOL)
        .allSatisfy(AdmissionTestBase::assertOk);
    assertThat(throttled(after, groupOf, Group.RESERVED)).as("%s", after).singleElement()
        .satisfies(o -> assertThrottled(o, RESERVED_CONCURRENT, 1, 60));
    assertThat(throttled(after, groupOf, Group.UNRESERVED)).as("%s", after).singleElement()
        .satisfies(o -> assertThrottled(o, CONCURRENT, 1, 60));
    // ...and without the reservation, the whole account: --concurrency slow invokes at once.
    deleteReserved(reserved);
    assertThat(unreserved()).isEqualTo(LIMIT);
    List<Call> whole = new ArrayList<>(calls(slow, LIMIT / 2, "ok", 1500));
    whole.addAll(calls(reserved, LIMIT - LIMIT / 2, "ok", 1500));
    assertThat(parallel(whole)).allSatisfy(AdmissionTestBase::assertOk);
  }

  private static List<Outcome> admitted(List<Outcome> all, Map<String, Group> groupOf, Group g) {
    return all.stream().filter(o -> groupOf.get(o.call().function()) == g && o.admitted()).toList();
  }

  private static List<Outcome> throttled(List<Outcome> all, Map<String, Group> groupOf, Group g) {
    return all.stream().filter(o -> groupOf.get(o.call().function()) == g && o.throttled()).toList();
  }

  /** The requests counted at the sample with the highest count, for a failure message. */
  private final StringBuilder witness = new StringBuilder();

  /**
   * How far the test's send-to-answer spans reach beyond the functions' runs, for the summary:
   * "before" excludes the reported Init Duration but still holds sandbox creation on a cold start.
   */
  private static String transitFigures(List<Outcome> all) {
    List<Long> before = new ArrayList<>();
    List<Long> after = new ArrayList<>();
    for (Outcome o : all) {
      if (o.admitted() && o.functionError() == null && o.fnStartMs() > 0) {
        String init = initOf(o);
        double initMs = init.equals("warm") || init.equals("?") ? 0 : Double.parseDouble(init);
        before.add(o.fnStartMs() - o.sentMicros() / 1000 - (long) initMs);
        after.add(o.receivedMicros() / 1000 - o.fnEndMs());
      }
    }
    if (before.isEmpty()) {
      return "no successful runs";
    }
    before.sort(null);
    after.sort(null);
    return String.format(
        "ms from send to handler start (minus Init Duration) p50 %d p99 %d max %d; from handler end to answer "
            + "p50 %d p99 %d max %d",
        before.get(before.size() / 2), before.get(before.size() * 99 / 100), before.getLast(),
        after.get(after.size() / 2), after.get(after.size() * 99 / 100), after.getLast());
  }

  /** The Init Duration of the REPORT line in the log tail, "warm" without one. */
  static String initOf(Outcome o) {
    if (o.log() == null) {
      return "?";
    }
    var m = java.util.regex.Pattern.compile("Init Duration: ([0-9.]+) ms").matcher(o.log());
    return m.find() ? m.group(1) : "warm";
  }

  /**
   * At each sample moment: admitted requests between send and answer (max over samples), and those
   * further than {@link #TRANSIT_MS} from both ends (max over samples; {@link #witness} lists them).
   */
  private int[] sampledMax(List<Sample> samples, List<Outcome> admitted) {
    long transit = TRANSIT_MS * 1000;
    witness.setLength(0);
    int maxAll = 0;
    int maxCore = 0;
    for (Sample s : samples) {
      long t = s.atMicros();
      int all = 0;
      int core = 0;
      for (Outcome o : admitted) {
        if (o.sentMicros() <= t && t < o.receivedMicros()) {
          all++;
          if (o.sentMicros() + transit <= t && t < o.receivedMicros() - transit) {
            core++;
          }
        }
      }
      maxAll = Math.max(maxAll, all);
      if (core > maxCore) {
        witness.setLength(0);
        witness.append("at ").append(t / 1000).append(":\n");
        for (Outcome o : admitted) {
          if (o.sentMicros() + transit <= t && t < o.receivedMicros() - transit) {
            witness.append("  ").append(o).append(" init=").append(initOf(o)).append('\n');
          }
        }
      }
      maxCore = Math.max(maxCore, core);
    }
    return new int[] {maxAll, maxCore};
  }

  /** Admitted requests whose send-to-answer span overlaps the throttled one's. */
  static long overlapping(List<Outcome> admitted, Outcome throttled) {
    return admitted.stream()
        .filter(o -> o.sentMicros() <= throttled.receivedMicros() && throttled.sentMicros() <= o.receivedMicros())
        .count();
  }
}
