package dev.kiln.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class AdmissionTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private Admission admission(int accountLimit, Map<String, Integer> reservations) {
    return new Admission(new AdmissionSettings(accountLimit, 2, 3, 1.0, 5, 2.0), now::get, a -> reservations);
  }

  @Test
  void bypassedAdmissionLetsEverythingThroughAndCountsNothing() {
    var bypassed = Admission.bypassed(new AdmissionSettings(1, 0, 1, 0.0, 1, 0.0));
    var permits = new ArrayList<Permit>();
    for (int i = 0; i < 5; i++) {
      permits.add(bypassed.admit("a", "f"));
      bypassed.admitNewEnvironment("a", "f");
    }
    assertThat(bypassed.concurrency("a")).isZero();
    permits.forEach(Permit::close);
    // The same settings, enforced, allow one.
    var enforced = new Admission(new AdmissionSettings(1, 0, 1, 0.0, 1, 0.0), now::get, a -> Map.of());
    enforced.admit("a", "f");
    assertThrottled(() -> enforced.admit("a", "f"), ThrottleReason.ConcurrentInvocationLimitExceeded);
  }

  @Test
  void unreservedFunctionsShareTheAccountLimitMinusReservations() {
    var admission = admission(10, Map.of("reserved", 4));
    var permits = new ArrayList<Permit>();
    for (int i = 0; i < 6; i++) {
      permits.add(admission.admit("a", i % 2 == 0 ? "f" : "g"));
    }
    assertThrottled(() -> admission.admit("a", "f"), ThrottleReason.ConcurrentInvocationLimitExceeded);
    // The reservation stays available to its function however busy the others are.
    for (int i = 0; i < 4; i++) {
      permits.add(admission.admit("a", "reserved"));
    }
    assertThrottled(() -> admission.admit("a", "reserved"),
        ThrottleReason.ReservedFunctionConcurrentInvocationLimitExceeded);
    assertThat(admission.concurrency("a")).isEqualTo(10);
    permits.forEach(Permit::close);
    permits.forEach(Permit::close);
    assertThat(admission.concurrency("a")).isZero();
    assertThat(admission.concurrency("a", "reserved")).isZero();
    assertThat(admission.admit("a", "f")).isNotNull();
  }

  @Test
  void preWarmsOnlyTakeScalingTokensInvocationsCanSpare() {
    var admission = admission(10, Map.of());
    // The function's bucket holds 3: a pre-warm may take one only while half stays.
    assertThat(admission.admitSpareNewEnvironment("a", "f")).isTrue();
    assertThat(admission.admitSpareNewEnvironment("a", "f")).isFalse();
    // What is left is the invocations': two new environments still start.
    admission.admitNewEnvironment("a", "f");
    admission.admitNewEnvironment("a", "f");
    assertThrottled(() -> admission.admitNewEnvironment("a", "f"), ThrottleReason.FunctionInvocationRateLimitExceeded);
    now.addAndGet(3_000_000_000L);
    assertThat(admission.admitSpareNewEnvironment("a", "f")).isTrue();
    admission.setReserved("a", "off", 0);
    assertThat(admission.admitSpareNewEnvironment("a", "off")).as("reserved 0 never runs").isFalse();
    assertThat(admission.throttles(ThrottleReason.FunctionInvocationRateLimitExceeded)).isEqualTo(1);
    assertThat(admission.throttles("a", ThrottleReason.FunctionInvocationRateLimitExceeded)).isEqualTo(1);
    assertThat(admission.throttles("b", ThrottleReason.FunctionInvocationRateLimitExceeded))
        .as("another account's throttles are its own").isZero();
  }

  @Test
  void reservedZeroAlwaysThrottles() {
    var admission = admission(10, Map.of());
    admission.setReserved("a", "off", 0);
    assertThrottled(() -> admission.admit("a", "off"), ThrottleReason.ReservedFunctionConcurrentInvocationLimitExceeded);
    admission.setReserved("a", "off", null);
    assertThat(admission.admit("a", "off")).isNotNull();
    assertThat(admission.unreservedLimit("a")).isEqualTo(10);
  }

  @Test
  void newEnvironmentsAreRateLimitedPerFunctionAndRefill() {
    var admission = admission(100, Map.of());
    for (int i = 0; i < 3; i++) {
      admission.admitNewEnvironment("a", "f");
    }
    var throttled = assertThrottled(() -> admission.admitNewEnvironment("a", "f"),
        ThrottleReason.FunctionInvocationRateLimitExceeded);
    assertThat(throttled.retryAfterSeconds()).isEqualTo(1);
    now.addAndGet(1_000_000_000L);
    admission.admitNewEnvironment("a", "f");
    assertThat(admission.throttles(ThrottleReason.FunctionInvocationRateLimitExceeded)).isEqualTo(1);
  }

  @Test
  void theAccountBucketLimitsAllFunctionsTogether() {
    var admission = admission(100, Map.of());
    admission.admitNewEnvironment("a", "f1");
    admission.admitNewEnvironment("a", "f1");
    admission.admitNewEnvironment("a", "f2");
    admission.admitNewEnvironment("a", "f2");
    admission.admitNewEnvironment("a", "f3");
    assertThrottled(() -> admission.admitNewEnvironment("a", "f3"), ThrottleReason.CallerRateLimitExceeded);
    // Another account is unaffected.
    admission.admitNewEnvironment("b", "f3");
  }

  @Test
  void reservedFunctionsReportTheReservedRateReason() {
    var admission = admission(100, Map.of("r", 50));
    for (int i = 0; i < 3; i++) {
      admission.admitNewEnvironment("a", "r");
    }
    assertThrottled(() -> admission.admitNewEnvironment("a", "r"),
        ThrottleReason.ReservedFunctionInvocationRateLimitExceeded);
  }

  @Test
  void concurrentAdmissionNeverExceedsTheLimit() throws Exception {
    var admission = admission(16, Map.of());
    var peak = new java.util.concurrent.atomic.AtomicInteger();
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int t = 0; t < 64; t++) {
        pool.execute(() -> {
          for (int i = 0; i < 2000; i++) {
            try (var permit = admission.admit("a", "f")) {
              peak.accumulateAndGet(admission.concurrency("a"), Math::max);
            } catch (Throttled expected) {
              // Over the limit: refused, nothing to release.
            }
          }
        });
      }
    }
    assertThat(peak.get()).isLessThanOrEqualTo(16);
    assertThat(admission.concurrency("a")).isZero();
  }

  private static Throttled assertThrottled(Runnable call, ThrottleReason reason) {
    var caught = new Throttled[1];
    assertThatThrownBy(call::run).isInstanceOfSatisfying(Throttled.class, t -> {
      assertThat(t.reason()).isEqualTo(reason);
      caught[0] = t;
    });
    return caught[0];
  }
}
