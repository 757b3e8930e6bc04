package dev.kiln.sandbox;

/**
 * Makes sandboxes. Implementations: {@code crun} (Linux namespaces and cgroup v1 through the OCI runtime
 * crun; needs root) and {@code process} (plain child processes with rlimits; no isolation). {@link
 * SandboxBackends#detect} picks one.
 *
 * <p>A backend owns one root directory: one subdirectory per sandbox, plus its lock and crun state. On
 * construction it removes whatever a previous backend on the same root left behind (a Kiln server killed
 * with {@code kill -9}); two backends with different roots never touch each other's sandboxes.
 */
public interface SandboxBackend extends AutoCloseable {

  /** {@code "crun"} or {@code "process"}. */
  String name();

  /**
   * Makes an empty sandbox: namespaces, cgroup, mounts, the Runtime API bridge and one idle process waiting
   * for {@link Sandbox#launch}; nothing of any function yet.
   *
   * @throws SandboxException when the sandbox cannot be made
   */
  Sandbox prepare(SandboxLimits limits);

  /** Closes every sandbox this backend made and releases its root. */
  @Override
  void close();
}
