package dev.kiln.invoke.async;

import dev.kiln.store.AsyncStore.FunctionKey;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Throttled events waiting in memory for their function to have capacity again. A waiting event
 * keeps its claim and its place among the events in flight, and tries again as soon as any queued
 * invocation on this node ends, or after a short recheck interval (capacity freed elsewhere: a
 * reservation raised, another node's invocations, scaling tokens refilled). A function's backlog
 * thus runs as fast as the function can take it, without trips through the store.
 *
 * <p>Waiting is bounded per function and in all, so throttled functions cannot hold every slot and
 * starve the others. Events beyond the bound go back to the store; while a function has its fill of
 * waiters (until half of them have gone) the dispatcher claims none of its events.
 */
final class CapacityWaits {
  private final int perFunction;
  private final int total;
  private final Duration recheck;
  private final Runnable roomAgain;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition invocationEnded = lock.newCondition();
  private final Map<FunctionKey, Integer> waiting = new HashMap<>();
  private final Set<FunctionKey> full = new HashSet<>();
  private int count;

  /** @param roomAgain told when functions the dispatcher passed over may be claimed again */
  CapacityWaits(int perFunction, int total, Duration recheck, Runnable roomAgain) {
    this.perFunction = perFunction;
    this.total = total;
    this.recheck = recheck;
    this.roomAgain = roomAgain;
  }

  /** Takes a waiting place for an event of {@code function}; false when there is none left. */
  boolean enter(FunctionKey function) {
    lock.lock();
    try {
      int current = waiting.getOrDefault(function, 0);
      if (count >= total || current >= perFunction) {
        return false;
      }
      waiting.put(function, current + 1);
      count++;
      if (current + 1 >= perFunction) {
        full.add(function);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  void leave(FunctionKey function) {
    boolean room;
    lock.lock();
    try {
      int left = waiting.merge(function, -1, Integer::sum);
      if (left <= 0) {
        waiting.remove(function);
      }
      room = count-- == total;
      if (full.contains(function) && left <= perFunction / 2) {
        full.remove(function);
        room = true;
      }
    } finally {
      lock.unlock();
    }
    if (room) {
      roomAgain.run();
    }
  }

  /** Waits until a queued invocation ends or the recheck interval passes. */
  void awaitCapacity() throws InterruptedException {
    lock.lock();
    try {
      invocationEnded.await(recheck.toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      lock.unlock();
    }
  }

  /** A queued invocation ended: its capacity may be free for a waiting event. */
  void invocationEnded() {
    lock.lock();
    try {
      if (count > 0) {
        invocationEnded.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** The functions whose events a claim should pass over now. */
  Set<FunctionKey> saturated() {
    lock.lock();
    try {
      return count >= total ? Set.copyOf(waiting.keySet()) : Set.copyOf(full);
    } finally {
      lock.unlock();
    }
  }
}
