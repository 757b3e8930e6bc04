package dev.kiln.warming.sim;

import dev.kiln.warming.InvocationHistory;
import dev.kiln.warming.WarmPlan;
import dev.kiln.warming.WarmingPolicy;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Replays a {@link Trace} against a {@link WarmingPolicy}: the same mechanism as the worker
 * (environments per function, reused most recently used first, kept or retired by the policy's
 * plans, pre-warmed when a plan says so), in simulated time. An arrival that finds no idle
 * environment of its function is a cold start. Initialization is taken as instant, so a pre-warmed
 * environment is ready at the time the plan names.
 *
 * <p>Idle memory is bounded by a budget: when idle environments would need more, the least recently
 * used are evicted (as the worker evicts when the host's memory is full). Idle memory-seconds, the
 * memory held by environments that run nothing, is what a policy pays for its warm starts; it is
 * counted until the end of the trace.
 */
public final class Simulator {
  /** No memory budget: idle environments live as long as their plans say. */
  public static final long UNBOUNDED = Long.MAX_VALUE;

  private static final int END = 0;
  private static final int PREWARM = 1;
  private static final int ARRIVAL = 2;

  private final Trace trace;
  private final WarmingPolicy policy;
  private final long idleBudgetMb;
  private final PriorityQueue<Event> events = new PriorityQueue<>();
  /** Only under a budget: idle environments by when they went idle, and by when they expire. */
  private final PriorityQueue<IdleEntry> leastRecentlyUsed = new PriorityQueue<>();
  private final PriorityQueue<IdleEntry> expiries = new PriorityQueue<>();
  private long sequence;
  private long idleMb;
  private double idleMbMillis;
  private long evictions;
  private long prewarms;
  private long prewarmHits;
  private long prewarmsWasted;

  private Simulator(Trace trace, WarmingPolicy policy, long idleBudgetMb) {
    this.trace = trace;
    this.policy = policy;
    this.idleBudgetMb = idleBudgetMb;
  }

  /** Replays {@code trace} with at most {@code idleBudgetMb} of idle environments ({@link #UNBOUNDED} for none). */
  public static Result run(Trace trace, WarmingPolicy policy, long idleBudgetMb) {
    return new Simulator(trace, policy, idleBudgetMb).replay();
  }

  private boolean budgeted() {
    return idleBudgetMb != UNBOUNDED;
  }

  private Result replay() {
    var functions = new Fn[trace.functions().size()];
    for (int i = 0; i < functions.length; i++) {
      var spec = trace.functions().get(i);
      functions[i] = new Fn(spec, policy.newHistory(), spec.invocations().get());
      if (functions[i].cursor.advance()) {
        push(functions[i].cursor.arrivalMillis(), ARRIVAL, functions[i], null, 0);
      }
    }
    while (!events.isEmpty()) {
      var event = events.poll();
      switch (event.kind) {
        case ARRIVAL -> arrive(event.fn, event.time);
        case END -> end(event.env, event.time);
        case PREWARM -> prewarm(event.fn, event.time, event.stamp, event.until);
        default -> throw new IllegalStateException("unknown event " + event.kind);
      }
    }
    // Whatever is still idle at the end holds its memory until it expires or the trace ends.
    for (var fn : functions) {
      for (var env : fn.idle) {
        if (env.idle) {
          leaveIdle(env, env.until);
          if (env.until <= trace.lengthMillis()) {
            retire(env);
          }
        }
      }
    }
    return result(functions);
  }

  private void arrive(Fn fn, long now) {
    fn.history.arrived(now);
    fn.invocations++;
    var env = takeIdle(fn, now);
    if (env == null) {
      fn.coldStarts++;
      env = new Env(fn);
    }
    push(now + fn.cursor.durationMillis(), END, fn, env, 0);
    if (fn.cursor.advance()) {
      push(fn.cursor.arrivalMillis(), ARRIVAL, fn, null, 0);
    }
  }

  /** The most recently used idle environment still within its window; expired ones are retired on the way. */
  private Env takeIdle(Fn fn, long now) {
    for (var env = fn.idle.pollFirst(); env != null; env = fn.idle.pollFirst()) {
      if (!env.idle) {
        continue;
      }
      if (env.until < now) {
        leaveIdle(env, env.until);
        retire(env);
        continue;
      }
      leaveIdle(env, now);
      if (env.prewarmed) {
        env.prewarmed = false;
        prewarmHits++;
      }
      return env;
    }
    return null;
  }

  private void end(Env env, long now) {
    var fn = env.fn;
    int level = fn.history.ended(now);
    switch (policy.plan(fn.history, level, now)) {
      case WarmPlan.KeepWarm keep -> {
        if (keep.keepMillis() > 0) {
          enterIdle(env, now, now + keep.keepMillis());
        }
      }
      case WarmPlan.PrewarmLater later -> {
        long at = now + later.afterMillis();
        // A newer plan replaces a pre-warm not yet done.
        push(at, PREWARM, fn, null, ++fn.prewarmStamp).until = at + later.keepMillis();
      }
    }
  }

  private void prewarm(Fn fn, long now, long stamp, long until) {
    if (stamp != fn.prewarmStamp || now >= trace.lengthMillis()) {
      return;
    }
    for (var env : fn.idle) {
      if (env.idle && env.until >= now) {
        // One is idle already: keep it through the window instead of starting another.
        if (until > env.until) {
          env.until = until;
          if (budgeted()) {
            expiries.add(new IdleEntry(until, env, sequence++));
          }
        }
        return;
      }
    }
    prewarms++;
    var env = new Env(fn);
    env.prewarmed = true;
    enterIdle(env, now, until);
  }

  private void enterIdle(Env env, long now, long until) {
    env.idle = true;
    env.idleSince = now;
    env.until = until;
    env.fn.idle.offerFirst(env);
    if (!budgeted()) {
      return;
    }
    idleMb += env.fn.spec.memoryMb();
    leastRecentlyUsed.add(new IdleEntry(now, env, sequence++));
    expiries.add(new IdleEntry(until, env, sequence++));
    if (idleMb > idleBudgetMb) {
      retireExpired(now);
    }
    while (idleMb > idleBudgetMb) {
      evictLeastRecentlyUsed(now);
    }
  }

  /** Under a budget, expired environments must stop counting before anything is evicted for room. */
  private void retireExpired(long now) {
    while (!expiries.isEmpty() && expiries.peek().time() < now) {
      var entry = expiries.poll();
      var env = entry.env();
      if (env.idle && env.until == entry.time()) {
        leaveIdle(env, env.until);
        retire(env);
      }
    }
  }

  private void evictLeastRecentlyUsed(long now) {
    while (true) {
      var entry = leastRecentlyUsed.poll();
      if (entry == null) {
        throw new IllegalStateException("idle memory over budget with nothing idle");
      }
      var env = entry.env();
      // Still in the idle spell this entry was made for.
      if (env.idle && env.idleSince == entry.time()) {
        evictions++;
        leaveIdle(env, now);
        retire(env);
        return;
      }
    }
  }

  private void leaveIdle(Env env, long at) {
    env.idle = false;
    if (budgeted()) {
      idleMb -= env.fn.spec.memoryMb();
    }
    long end = Math.min(at, trace.lengthMillis());
    if (end > env.idleSince) {
      double mbMillis = (double) (end - env.idleSince) * env.fn.spec.memoryMb();
      idleMbMillis += mbMillis;
      env.fn.idleMbMillis += mbMillis;
    }
  }

  private void retire(Env env) {
    if (env.prewarmed) {
      prewarmsWasted++;
    }
  }

  private Event push(long time, int kind, Fn fn, Env env, long stamp) {
    var event = new Event(time, kind, sequence++, fn, env, stamp);
    events.add(event);
    return event;
  }

  private Result result(Fn[] functions) {
    long invocations = 0;
    long coldStarts = 0;
    var perFunction = new LinkedHashMap<String, FunctionOutcome>();
    int invoked = 0;
    var rates = new double[functions.length];
    for (var fn : functions) {
      invocations += fn.invocations;
      coldStarts += fn.coldStarts;
      perFunction.put(fn.spec.id(), new FunctionOutcome(fn.invocations, fn.coldStarts, fn.idleMbMillis / 1000 / 1024));
      if (fn.invocations > 0) {
        rates[invoked++] = (double) fn.coldStarts / fn.invocations;
      }
    }
    Arrays.sort(rates, 0, invoked);
    double p75 = invoked == 0 ? 0 : rates[Math.max(0, (int) Math.ceil(0.75 * invoked) - 1)];
    return new Result(policy.describe(), idleBudgetMb, invocations, coldStarts,
        invocations == 0 ? 0 : (double) coldStarts / invocations, p75, idleMbMillis / 1000 / 1024, evictions,
        prewarms, prewarmHits, prewarmsWasted, perFunction);
  }

  /**
   * What one replay showed.
   *
   * @param coldStartRate cold starts over all invocations
   * @param p75FunctionColdStartRate functions ranked by their own cold-start rate, the one three
   *     quarters of the way up (functions never invoked are left out)
   * @param idleGbSeconds memory of idle environments integrated over the time they were idle
   * @param prewarmsWasted pre-warmed environments retired or evicted without serving an invocation
   */
  public record Result(String policy, long idleBudgetMb, long invocations, long coldStarts, double coldStartRate,
      double p75FunctionColdStartRate, double idleGbSeconds, long evictions, long prewarms, long prewarmHits,
      long prewarmsWasted, Map<String, FunctionOutcome> functions) {}

  /** One function's invocations, cold starts and idle memory. */
  public record FunctionOutcome(long invocations, long coldStarts, double idleGbSeconds) {}

  private static final class Fn {
    final TraceFunction spec;
    final InvocationHistory history;
    final InvocationCursor cursor;
    final ArrayDeque<Env> idle = new ArrayDeque<>();
    long invocations;
    long coldStarts;
    long prewarmStamp;
    double idleMbMillis;

    Fn(TraceFunction spec, InvocationHistory history, InvocationCursor cursor) {
      this.spec = spec;
      this.history = history;
      this.cursor = cursor;
    }
  }

  private static final class Env {
    final Fn fn;
    boolean idle;
    boolean prewarmed;
    long idleSince;
    /** The end of its keep-alive: it expires when found idle after this. */
    long until;

    Env(Fn fn) {
      this.fn = fn;
    }
  }

  private static final class Event implements Comparable<Event> {
    final long time;
    final int kind;
    final long sequence;
    final Fn fn;
    final Env env;
    final long stamp;
    long until;

    Event(long time, int kind, long sequence, Fn fn, Env env, long stamp) {
      this.time = time;
      this.kind = kind;
      this.sequence = sequence;
      this.fn = fn;
      this.env = env;
      this.stamp = stamp;
    }

    @Override
    public int compareTo(Event other) {
      int byTime = Long.compare(time, other.time);
      if (byTime != 0) {
        return byTime;
      }
      int byKind = Integer.compare(kind, other.kind);
      return byKind != 0 ? byKind : Long.compare(sequence, other.sequence);
    }
  }

  /** An idle environment filed under a time: when it went idle, or when it expires. */
  private record IdleEntry(long time, Env env, long sequence) implements Comparable<IdleEntry> {
    @Override
    public int compareTo(IdleEntry other) {
      int byTime = Long.compare(time, other.time);
      return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
    }
  }
}
