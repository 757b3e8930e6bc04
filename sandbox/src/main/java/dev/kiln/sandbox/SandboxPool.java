package dev.kiln.sandbox;

import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code target} prepared, empty sandboxes of the default limits ready, so a cold start does not pay
 * for sandbox creation. Refills in the background on virtual threads, a few at a time; backs off when
 * preparing fails.
 *
 * <p>A pooled sandbox fits any request whose limits differ only in memory (the memory limit is written at
 * launch, {@link Launch#memoryMb()}); its {@link Sandbox#limits()} still report the pool's defaults.
 */
public final class SandboxPool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxPool.class);
  /** How many sandboxes are prepared at once while refilling (the host has few cores; crun is CPU-bound). */
  private static final int PARALLELISM = 2;

  private final SandboxBackend backend;
  private final SandboxLimits defaults;
  private final int target;
  private final LinkedBlockingDeque<Sandbox> ready = new LinkedBlockingDeque<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Semaphore wake = new Semaphore(0);
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();
  private final AtomicLong backoffMillis = new AtomicLong();
  private final Thread refiller;

  public SandboxPool(SandboxBackend backend, SandboxLimits defaults, int target) {
    if (target < 0) throw new IllegalArgumentException("target must not be negative: " + target);
    this.backend = backend;
    this.defaults = defaults;
    this.target = target;
    this.refiller = Thread.ofVirtual().name("sandbox-pool-refill").start(this::refillLoop);
  }

  /**
   * A pre-made sandbox when {@code limits} match the pool's /tmp size, pids and network (any memory);
   * otherwise, or when none is ready, one prepared now.
   *
   * @throws SandboxException when a sandbox has to be prepared now and that fails
   */
  public Sandbox take(SandboxLimits limits) {
    if (closed.get()) throw new SandboxException("sandbox pool is closed");
    if (limits.sameShape(defaults)) {
      Sandbox s;
      while ((s = ready.pollFirst()) != null) {
        wake.release();
        if (!s.exited().isDone()) {
          hits.incrementAndGet();
          return s;
        }
        s.close(); // its idle process died
      }
    }
    misses.incrementAndGet();
    wake.release();
    return backend.prepare(limits);
  }

  /** Sandboxes ready now. */
  public int ready() {
    return ready.size();
  }

  public int target() {
    return target;
  }

  /** Takes served from the pool / prepared on demand. */
  public long hits() {
    return hits.get();
  }

  public long misses() {
    return misses.get();
  }

  private void refillLoop() {
    while (!closed.get()) {
      try {
        long pause = backoffMillis.get();
        if (pause > 0) Thread.sleep(pause);
        while (!closed.get() && inFlight.get() < PARALLELISM && target - ready.size() - inFlight.get() > 0) {
          inFlight.incrementAndGet();
          Thread.ofVirtual().name("sandbox-pool-prepare").start(this::prepareOne);
        }
        wake.acquire();
        wake.drainPermits();
      } catch (InterruptedException e) {
        if (closed.get()) return;
      }
    }
  }

  private void prepareOne() {
    try {
      Sandbox s = backend.prepare(defaults);
      ready.addLast(s);
      if (closed.get() && ready.remove(s)) s.close();
      if (backoffMillis.getAndSet(0) > 0) log.info("sandbox pool: preparing sandboxes works again");
    } catch (RuntimeException e) {
      if (!closed.get()) {
        long before = backoffMillis.getAndUpdate(b -> Math.min(5_000, Math.max(100, b * 2)));
        if (before == 0) log.warn("sandbox pool: cannot prepare a sandbox, backing off: {}", e.getMessage());
      }
    } finally {
      inFlight.decrementAndGet();
      wake.release();
    }
  }

  /** Stops refilling and closes the sandboxes still in the pool (not those already taken). */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) return;
    refiller.interrupt();
    wake.release();
    try {
      refiller.join(java.time.Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (int i = 0; i < 3000 && inFlight.get() > 0; i++) Os.sleep(10); // let running prepares finish
    Sandbox s;
    while ((s = ready.pollFirst()) != null) s.close();
  }
}
