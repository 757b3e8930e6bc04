package dev.kiln.worker;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.stream.Stream;

/**
 * The idle environments of one function configuration, kept apart by the tenant each one is bound
 * to, so that an environment of one tenant can never be handed to another. Environments bound to no
 * tenant (every environment of a function that is not per-tenant, and the never-used ones of a
 * per-tenant function) share one lane. Provisioned environments are handed out before on-demand
 * ones, as Lambda routes to provisioned concurrency first; within each kind the most recently used
 * goes first, so surplus environments age out at the back.
 */
final class IdlePool {
  /** The lane of environments bound to no tenant. */
  private static final String UNBOUND = "";

  private final ConcurrentHashMap<String, Lane> lanes = new ConcurrentHashMap<>();
  /** What the warming policy knows of the function version these environments belong to. */
  final FunctionWarming warming;

  IdlePool(FunctionWarming warming) {
    this.warming = warming;
  }

  /** The idle environments bound to one tenant (or to none). */
  private static final class Lane {
    final ConcurrentLinkedDeque<Environment> provisioned = new ConcurrentLinkedDeque<>();
    final ConcurrentLinkedDeque<Environment> onDemand = new ConcurrentLinkedDeque<>();

    Environment poll() {
      var environment = provisioned.pollFirst();
      return environment != null ? environment : onDemand.pollFirst();
    }

    ConcurrentLinkedDeque<Environment> of(Environment environment) {
      return environment.provisionedFor != null ? provisioned : onDemand;
    }

    boolean isEmpty() {
      return provisioned.isEmpty() && onDemand.isEmpty();
    }
  }

  private static String lane(String tenant) {
    return tenant == null ? UNBOUND : tenant;
  }

  /** Takes out an environment bound to no tenant; the caller then owns it. */
  Environment poll() {
    return poll(null);
  }

  /** Takes out an environment bound to {@code tenant} (null: to none); the caller then owns it. */
  Environment poll(String tenant) {
    var lane = lanes.get(lane(tenant));
    return lane == null ? null : lane.poll();
  }

  /** Returns a just-used environment to the front of its tenant's lane and kind. */
  void offerFirst(Environment environment) {
    // compute, so that pruning an empty lane can never drop an environment offered at the same moment
    lanes.compute(lane(environment.tenant), (t, lane) -> {
      var target = lane == null ? new Lane() : lane;
      target.of(environment).offerFirst(environment);
      return target;
    });
  }

  /** Returns an environment that has been idle a while (e.g. just frozen) to the back of its lane and kind. */
  void offerLast(Environment environment) {
    lanes.compute(lane(environment.tenant), (t, lane) -> {
      var target = lane == null ? new Lane() : lane;
      target.of(environment).offerLast(environment);
      return target;
    });
  }

  /** Takes a specific environment out if it is here; true means the caller now owns it. */
  boolean remove(Environment environment) {
    var lane = lanes.get(lane(environment.tenant));
    return lane != null && (lane.provisioned.remove(environment) || lane.onDemand.remove(environment));
  }

  int size() {
    return lanes.values().stream().mapToInt(lane -> lane.provisioned.size() + lane.onDemand.size()).sum();
  }

  /** Forgets the lanes of tenants that have no idle environment left, so departed tenants cost nothing. */
  void pruneEmptyLanes() {
    for (var tenant : lanes.keySet()) {
      lanes.computeIfPresent(tenant, (t, lane) -> lane.isEmpty() ? null : lane);
    }
  }

  /** A weakly consistent view for the maintenance pass; take an environment with {@link #remove} first. */
  Stream<Environment> stream() {
    return lanes.values().stream().flatMap(lane -> Stream.concat(lane.provisioned.stream(), lane.onDemand.stream()));
  }
}
