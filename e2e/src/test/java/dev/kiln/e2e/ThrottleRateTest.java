package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.e2e.support.SignedHttp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Scaling rate: every new execution environment costs a token from its function's bucket (burst 3,
 * one back every 2 s here) and from the account's (burst 6, one back every second); a warm
 * environment costs nothing. Each scaling-rate Reason is provoked by slow invokes fired together,
 * so each needs its own environment.
 *
 * <p>The account bucket is shared by every function of the class, so the tests run in order and a
 * test that needs the account bucket full first waits for it to refill (6 s at most).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThrottleRateTest extends AdmissionTestBase {
  private static final int BURST = 3;
  private static final double RATE = 0.5;
  private static final int ACCOUNT_BURST = 2 * BURST;
  /** Seconds for the account bucket to refill from empty: 6 tokens at 1 per second. */
  private static final long ACCOUNT_REFILL_MS = (long) (ACCOUNT_BURST / (2 * RATE) * 1000);
  /** Retry-After is whole seconds until the next token: at most 1 / RATE. */
  private static final int MAX_FUNCTION_RETRY = (int) Math.ceil(1 / RATE);

  private long lastBurstNanos = System.nanoTime();

  @Override
  protected List<String> serverArgs() {
    // Concurrency is plentiful, so only the scaling rate throttles here.
    return List.of("--concurrency", "100", "--scaling-burst", String.valueOf(BURST), "--scaling-rate",
        String.valueOf(RATE));
  }

  /** Waits until the account bucket is surely full again since the last burst of cold starts. */
  private void awaitAccountBucketFull() {
    long waitMs = ACCOUNT_REFILL_MS + 500 - (System.nanoTime() - lastBurstNanos) / 1_000_000;
    if (waitMs > 0) {
      sleep(waitMs);
    }
  }

  private List<Outcome> burst(List<Call> calls) {
    List<Outcome> outcomes = parallel(calls);
    lastBurstNanos = System.nanoTime();
    return outcomes;
  }

  private static List<Outcome> admitted(List<Outcome> outcomes) {
    return outcomes.stream().filter(Outcome::admitted).toList();
  }

  private static List<Outcome> throttled(List<Outcome> outcomes) {
    return outcomes.stream().filter(Outcome::throttled).toList();
  }

  private String function;

  @Test
  @Order(1)
  void a_function_scaling_past_its_burst_is_throttled_with_FunctionInvocationRateLimitExceeded() {
    function = deployAdmission("burst", 10);
    String other = deployAdmission("other", 10);
    awaitAccountBucketFull();

    // Six at once, each needing a new environment: the burst of 3 (plus whatever trickles back in
    // the moment they take to arrive) is admitted, the rest throttled.
    List<Future<Outcome>> burst = fire(calls(function, 2 * BURST, "ok", 3000));
    sleep(700);
    // While those run, a seventh needs a new environment too: raw HTTP shows the 429 as sent.
    assertThrottleResponse(rawInvoke(function, "{}", Map.of()), FUNCTION_RATE, 1, MAX_FUNCTION_RETRY);
    // Another function has its own bucket (the account still has tokens left).
    assertOk(call(new Call(other, newTag(), "ok", 0)));
    // An Event is accepted even though the function cannot scale now, and runs later.
    String tag = newTag();
    assertThat(invokeEvent(function, event(tag, "ok", 0))).isEqualTo(202);

    List<Outcome> outcomes = join(burst);
    lastBurstNanos = System.nanoTime();
    assertThat(admitted(outcomes)).as("%s", outcomes).hasSizeBetween(BURST, BURST + 1)
        .allSatisfy(AdmissionTestBase::assertOk);
    assertThat(throttled(outcomes))
        .as("%s", outcomes)
        .hasSize(outcomes.size() - admitted(outcomes).size())
        .allSatisfy(o -> assertThrottled(o, FUNCTION_RATE, 1, MAX_FUNCTION_RETRY));
    loggedStart(function, tag);
  }

  @Test
  @Order(2)
  void warm_environments_are_reused_without_taking_tokens() {
    // The function's bucket is nearly empty after test 1, but it has 3 or more idle environments:
    // rounds of 3 concurrent invokes keep succeeding, which they could not if each took a token.
    for (int round = 0; round < 4; round++) {
      List<Outcome> outcomes = parallel(calls(function, BURST, "ok", 400));
      assertThat(outcomes).as("round %d: %s", round, outcomes).allSatisfy(AdmissionTestBase::assertOk);
    }
    for (int i = 0; i < 10; i++) {
      assertOk(call(new Call(function, newTag(), "ok", 0)));
    }
  }

  @Test
  @Order(3)
  void a_reserved_function_scaling_past_its_burst_is_throttled_with_ReservedFunctionInvocationRateLimitExceeded() {
    String reserved = deployAdmission("reserved-burst", 10);
    putReserved(reserved, 20);
    awaitAccountBucketFull();
    List<Outcome> outcomes = burst(calls(reserved, 2 * BURST, "ok", 2000));
    assertThat(admitted(outcomes)).as("%s", outcomes).hasSizeBetween(BURST, BURST + 1)
        .allSatisfy(AdmissionTestBase::assertOk);
    assertThat(throttled(outcomes))
        .as("%s", outcomes)
        .hasSize(outcomes.size() - admitted(outcomes).size())
        .allSatisfy(o -> assertThrottled(o, RESERVED_RATE, 1, MAX_FUNCTION_RETRY));
    deleteReserved(reserved);
  }

  @Test
  @Order(4)
  void the_account_scaling_past_its_burst_is_throttled_with_CallerRateLimitExceeded() throws Exception {
    String a = deployAdmission("caller-a", 10);
    String b = deployAdmission("caller-b", 10);
    String c = deployAdmission("caller-c", 10);
    String d = deployAdmission("caller-d", 10);
    // a and b take up to 3 tokens each: all the account's 6. The buckets of c and d are full, so
    // when they cannot start environments it is the account's doing.
    List<Call> first = new ArrayList<>(calls(a, BURST, "ok", 3000));
    first.addAll(calls(b, BURST, "ok", 3000));
    List<Future<Outcome>> firstRun = fire(first);
    sleep(500);
    // c through the SDK and d through raw HTTP, at once: the account has at most a token for them.
    List<Future<SignedHttp.Response>> raw = new ArrayList<>();
    for (int i = 0; i < BURST; i++) {
      String payload = event(newTag(), "ok", 1000);
      raw.add(pool.submit(() -> rawInvoke(d, payload, Map.of())));
    }
    List<Outcome> third = burst(calls(c, BURST, "ok", 1000));
    assertThat(throttled(third)).as("%s", third).isNotEmpty()
        .allSatisfy(o -> assertThrottled(o, CALLER_RATE, 1, 1));
    assertThat(admitted(third)).as("%s", third).allSatisfy(AdmissionTestBase::assertOk);
    List<SignedHttp.Response> rawResponses = new ArrayList<>();
    for (Future<SignedHttp.Response> f : raw) {
      rawResponses.add(f.get(60, TimeUnit.SECONDS));
    }
    assertThat(rawResponses.stream().filter(r -> r.status() != 200))
        .as("%s", rawResponses)
        .isNotEmpty()
        .allSatisfy(r -> assertThrottleResponse(r, CALLER_RATE, 1, 1));
    List<Outcome> firstOutcomes = join(firstRun);
    assertThat(throttled(firstOutcomes))
        .as("only the account's bucket can throttle a and b: %s", firstOutcomes)
        .allSatisfy(o -> assertThrottled(o, CALLER_RATE, 1, 1));

    // The account regains a token a second: c scales again soon.
    await("c starts a new environment again")
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> parallel(calls(c, BURST, "ok", 200)).stream().allMatch(Outcome::admitted));
  }
}
