package dev.kiln.control;

import dev.kiln.core.Alias;
import dev.kiln.core.FunctionVersion;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * What invokes of one (account, function, qualifier) resolve to, kept between invokes: a store read
 * per invoke was a fifth of Kiln's CPU per warm invoke.
 *
 * <p>Two rules keep it correct. Every change this node makes bumps a generation after its commit,
 * and an entry read under an older generation is never used, so this node's own writes are seen
 * at once. An entry also expires after {@link #MAX_AGE_NANOS}, which bounds how long a change made
 * by another node sharing a PostgreSQL store can go unseen (Lambda itself takes a few seconds to
 * apply a change everywhere).
 */
final class InvokeTargets {
  static final long MAX_AGE_NANOS = 1_000_000_000L;
  private static final int MAX_ENTRIES = 10_000;

  /**
   * The versions an invoke may run: one, or an alias's primary and weighted ones.
   *
   * @param alias null when the qualifier names a version directly
   * @param versions every version the target may route to, by version number
   */
  record Target(Alias alias, Map<String, FunctionVersion> versions) {
    /** The version for one invoke; {@code random} in [0, 1) picks among an alias's weights. */
    FunctionVersion choose(double random) {
      if (alias == null) {
        return versions.values().iterator().next();
      }
      String chosen = alias.functionVersion();
      double cumulative = 0;
      for (var weight : alias.additionalWeights().entrySet()) {
        cumulative += weight.getValue();
        if (random < cumulative) {
          chosen = weight.getKey();
          break;
        }
      }
      return versions.get(chosen);
    }
  }

  private record Key(String account, String function, String qualifier) {}

  private record Entry(Target target, long generation, long readAtNanos) {}

  private final ConcurrentHashMap<Key, Entry> entries = new ConcurrentHashMap<>();
  private final AtomicLong generation = new AtomicLong();
  private final LongSupplier nanoClock;

  InvokeTargets(LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
  }

  long now() {
    return nanoClock.getAsLong();
  }

  /** The generation to pass to {@link #put}: taken before reading the store. */
  long generation() {
    return generation.get();
  }

  Target get(String account, String function, String qualifier) {
    var entry = entries.get(new Key(account, function, qualifier));
    if (entry == null || entry.generation != generation.get()
        || nanoClock.getAsLong() - entry.readAtNanos > MAX_AGE_NANOS) {
      return null;
    }
    return entry.target;
  }

  void put(String account, String function, String qualifier, Target target, long readGeneration, long readAtNanos) {
    if (entries.size() >= MAX_ENTRIES) {
      entries.clear();
    }
    entries.put(new Key(account, function, qualifier), new Entry(target, readGeneration, readAtNanos));
  }

  /** Called after every committed change: nothing read before it is used again. */
  void changed() {
    generation.incrementAndGet();
  }
}
