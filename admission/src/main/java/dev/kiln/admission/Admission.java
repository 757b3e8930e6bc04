package dev.kiln.admission;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Decides whether an invocation may run now, in the words Lambda uses when it may not.
 *
 * <ul>
 *   <li>Concurrency: a function with reserved concurrency gets exactly that many slots, guaranteed
 *       and capped; every other function shares the account's unreserved slots (the account limit
 *       minus all reservations).
 *   <li>Scaling rate: a new execution environment costs a token from the function's bucket and from
 *       the account's; reusing a warm environment costs nothing. This is Lambda's "N new
 *       environments per interval" rule with a burst.
 * </ul>
 *
 * Every decision is a few atomic operations; no lock is held across an invocation.
 */
public final class Admission {
  private final AdmissionSettings settings;
  private final LongSupplier nanoClock;
  private final Function<String, Map<String, Integer>> reservationsOf;
  private final ConcurrentHashMap<String, AccountState> accounts = new ConcurrentHashMap<>();
  private final Map<ThrottleReason, LongAdder> throttles = new EnumMap<>(ThrottleReason.class);
  /** False only in {@link #bypassed}: every request is let through and nothing is counted. */
  private final boolean enforced;
  private static final Permit NO_SLOT = () -> {};
  /** Pre-warms leave at least this share of a scaling bucket to invocations. */
  private static final double SPARE_SHARE = 0.5;

  /**
   * @param reservationsOf loads an account's reserved concurrency per function the first time the
   *     account is seen (afterwards {@link #setReserved} keeps it current)
   */
  public Admission(AdmissionSettings settings, LongSupplier nanoClock,
      Function<String, Map<String, Integer>> reservationsOf) {
    this(settings, nanoClock, reservationsOf, true);
  }

  private Admission(AdmissionSettings settings, LongSupplier nanoClock,
      Function<String, Map<String, Integer>> reservationsOf, boolean enforced) {
    this.enforced = enforced;
    this.settings = settings;
    this.nanoClock = nanoClock;
    this.reservationsOf = reservationsOf;
    for (var reason : ThrottleReason.values()) {
      throttles.put(reason, new LongAdder());
    }
  }

  /**
   * An admission that admits everything and counts nothing: only for measuring what admission
   * costs an invoke (the benchmark's "admission off" server). Never a production setting.
   */
  public static Admission bypassed(AdmissionSettings settings) {
    return new Admission(settings, System::nanoTime, account -> Map.of(), false);
  }

  public AdmissionSettings settings() {
    return settings;
  }

  /** Takes a concurrency slot for one execution of {@code function}, or throws {@link Throttled}. */
  public Permit admit(String account, String function) {
    if (!enforced) {
      return NO_SLOT;
    }
    var state = account(account);
    var fn = state.function(function);
    Integer reserved = fn.reserved;
    if (reserved != null) {
      if (!increment(fn.inFlight, reserved)) {
        throw throttle(state, ThrottleReason.ReservedFunctionConcurrentInvocationLimitExceeded, 1, reserved == 0
            ? "The function's reserved concurrency is 0: it is throttled until the reservation is raised or removed."
            : "Rate Exceeded.");
      }
      state.inFlight.incrementAndGet();
      return release(() -> {
        fn.inFlight.decrementAndGet();
        state.inFlight.decrementAndGet();
      });
    }
    // The account total is checked too: executions of a reservation that was just lowered or removed
    // still run outside the unreserved pool.
    if (!increment(state.inFlight, settings.accountConcurrency())) {
      throw throttle(state, ThrottleReason.ConcurrentInvocationLimitExceeded, 1, "Rate Exceeded.");
    }
    if (!increment(state.unreservedInFlight, settings.accountConcurrency() - state.reservedTotal.get())) {
      state.inFlight.decrementAndGet();
      throw throttle(state, ThrottleReason.ConcurrentInvocationLimitExceeded, 1, "Rate Exceeded.");
    }
    fn.inFlight.incrementAndGet();
    return release(() -> {
      fn.inFlight.decrementAndGet();
      state.unreservedInFlight.decrementAndGet();
      state.inFlight.decrementAndGet();
    });
  }

  /** Called before a new execution environment is started for {@code function}; throws when too fast. */
  public void admitNewEnvironment(String account, String function) {
    if (!enforced) {
      return;
    }
    var state = account(account);
    var fn = state.function(function);
    long now = nanoClock.getAsLong();
    if (!fn.newEnvironments.tryTake(now)) {
      throw throttle(state, fn.reserved != null ? ThrottleReason.ReservedFunctionInvocationRateLimitExceeded
          : ThrottleReason.FunctionInvocationRateLimitExceeded, fn.newEnvironments.secondsUntilToken(now),
          "Rate Exceeded.");
    }
    if (!state.newEnvironments.tryTake(now)) {
      fn.newEnvironments.giveBack();
      throw throttle(state, ThrottleReason.CallerRateLimitExceeded, state.newEnvironments.secondsUntilToken(now),
          "Rate Exceeded.");
    }
  }

  /**
   * Whether a new environment may be started that no invocation waits for (a warming policy's
   * pre-warm): only when both the function's and the account's scaling buckets stay at least half
   * full afterwards, so invocations never find them drained by a pre-warm; never for a function
   * whose reserved concurrency is 0. Takes the tokens when it says yes; counts no throttle.
   */
  public boolean admitSpareNewEnvironment(String account, String function) {
    if (!enforced) {
      return true;
    }
    var state = account(account);
    var fn = state.function(function);
    Integer reserved = fn.reserved;
    if (reserved != null && reserved == 0) {
      return false;
    }
    long now = nanoClock.getAsLong();
    if (!fn.newEnvironments.tryTakeSpare(SPARE_SHARE, now)) {
      return false;
    }
    if (!state.newEnvironments.tryTakeSpare(SPARE_SHARE, now)) {
      fn.newEnvironments.giveBack();
      return false;
    }
    return true;
  }

  /**
   * Records a function's reserved concurrency (null removes it). The caller has already checked
   * that the account keeps its minimum unreserved concurrency.
   */
  public void setReserved(String account, String function, Integer reserved) {
    var state = account(account);
    var fn = state.function(function);
    synchronized (state) {
      int previous = fn.reserved == null ? 0 : fn.reserved;
      fn.reserved = reserved;
      state.reservedTotal.addAndGet((reserved == null ? 0 : reserved) - previous);
    }
  }

  /** Forgets a deleted function; its reservation returns to the unreserved pool. */
  public void forget(String account, String function) {
    setReserved(account, function, null);
    account(account).functions.remove(function);
  }

  public int concurrency(String account) {
    return account(account).inFlight.get();
  }

  public int concurrency(String account, String function) {
    return account(account).function(function).inFlight.get();
  }

  /** Current concurrency of each function of the account that has run on this node. */
  public Map<String, Integer> functionConcurrency(String account) {
    var result = new java.util.TreeMap<String, Integer>();
    account(account).functions.forEach((name, fn) -> result.put(name, fn.inFlight.get()));
    return result;
  }

  public int unreservedLimit(String account) {
    return settings.accountConcurrency() - account(account).reservedTotal.get();
  }

  /** Throttles for {@code reason} on this node, all accounts together. */
  public long throttles(ThrottleReason reason) {
    return throttles.get(reason).sum();
  }

  /** The account's throttles for {@code reason} on this node. */
  public long throttles(String account, ThrottleReason reason) {
    return account(account).throttles.get(reason).sum();
  }

  private AccountState account(String account) {
    var state = accounts.get(account);
    if (state != null) {
      return state;
    }
    return accounts.computeIfAbsent(account, a -> {
      var created = new AccountState(settings, nanoClock.getAsLong());
      reservationsOf.apply(a).forEach((function, reserved) -> {
        created.function(function).reserved = reserved;
        created.reservedTotal.addAndGet(reserved);
      });
      return created;
    });
  }

  private Throttled throttle(AccountState state, ThrottleReason reason, int retryAfterSeconds, String message) {
    throttles.get(reason).increment();
    state.throttles.get(reason).increment();
    return new Throttled(reason, retryAfterSeconds, message);
  }

  /** Adds one to {@code counter} unless that would exceed {@code limit}. */
  private static boolean increment(AtomicInteger counter, int limit) {
    while (true) {
      int current = counter.get();
      if (current >= limit) {
        return false;
      }
      if (counter.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  private static Permit release(Runnable action) {
    var released = new AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        action.run();
      }
    };
  }

  private static final class AccountState {
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger unreservedInFlight = new AtomicInteger();
    final AtomicInteger reservedTotal = new AtomicInteger();
    final TokenBucket newEnvironments;
    final ConcurrentHashMap<String, FunctionState> functions = new ConcurrentHashMap<>();
    final Map<ThrottleReason, LongAdder> throttles = new EnumMap<>(ThrottleReason.class);
    private final AdmissionSettings settings;
    private final long createdNanos;

    AccountState(AdmissionSettings settings, long nowNanos) {
      this.settings = settings;
      this.createdNanos = nowNanos;
      this.newEnvironments = new TokenBucket(settings.accountBurst(), settings.accountRefillPerSecond(), nowNanos);
      for (var reason : ThrottleReason.values()) {
        throttles.put(reason, new LongAdder());
      }
    }

    FunctionState function(String name) {
      var fn = functions.get(name);
      return fn != null ? fn : functions.computeIfAbsent(name, n -> new FunctionState(
          new TokenBucket(settings.functionBurst(), settings.functionRefillPerSecond(), createdNanos)));
    }
  }

  private static final class FunctionState {
    final AtomicInteger inFlight = new AtomicInteger();
    final TokenBucket newEnvironments;
    volatile Integer reserved;

    FunctionState(TokenBucket newEnvironments) {
      this.newEnvironments = newEnvironments;
    }
  }
}
