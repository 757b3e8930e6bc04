package dev.kiln.worker;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.stream.Stream;

/**
 * The idle environments of one function configuration. Provisioned environments are handed out
 * before on-demand ones, as Lambda routes to provisioned concurrency first; within each kind the
 * most recently used goes first, so surplus environments age out at the back.
 */
final class IdlePool {
  private final ConcurrentLinkedDeque<Environment> provisioned = new ConcurrentLinkedDeque<>();
  private final ConcurrentLinkedDeque<Environment> onDemand = new ConcurrentLinkedDeque<>();
  /** What the warming policy knows of the function version these environments belong to. */
  final FunctionWarming warming;

  IdlePool(FunctionWarming warming) {
    this.warming = warming;
  }

  /** Takes an environment out; the caller then owns it. */
  Environment poll() {
    var environment = provisioned.pollFirst();
    return environment != null ? environment : onDemand.pollFirst();
  }

  /** Returns a just-used environment to the front of its kind. */
  void offerFirst(Environment environment) {
    (environment.provisionedFor != null ? provisioned : onDemand).offerFirst(environment);
  }

  /** Returns an environment that has been idle a while (e.g. just frozen) to the back of its kind. */
  void offerLast(Environment environment) {
    (environment.provisionedFor != null ? provisioned : onDemand).offerLast(environment);
  }

  /** Takes a specific environment out if it is here; true means the caller now owns it. */
  boolean remove(Environment environment) {
    return provisioned.remove(environment) || onDemand.remove(environment);
  }

  int size() {
    return provisioned.size() + onDemand.size();
  }

  /** A weakly consistent view for the maintenance pass; take an environment with {@link #remove} first. */
  Stream<Environment> stream() {
    return Stream.concat(provisioned.stream(), onDemand.stream());
  }
}
