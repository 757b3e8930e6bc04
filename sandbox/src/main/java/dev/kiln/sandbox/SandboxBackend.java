package dev.kiln.sandbox;

import java.nio.file.Path;

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

  /**
   * A sandbox for a zygote (see {@link #prepareFork}): like {@link #prepare}, except that its system call filter
   * ({@link SyscallPolicy#forZygotes()}) lets the zygote's forks make the namespaces they isolate themselves with.
   * Each fork then installs {@link #forkFilterProgram()} on itself. Its sandbox also has what the forks need to
   * mount a /proc of their own.
   */
  default Sandbox prepareZygote(SandboxLimits limits) {
    return prepare(limits);
  }

  /**
   * Host file holding the function filter ({@link SyscallPolicy#forFunctions()}) as a classic BPF program (the
   * bytes of a {@code struct sock_filter} array, see {@link SeccompBpf}) for a zygote's forks to install on
   * themselves; empty when this backend filters no system calls.
   */
  default java.util.Optional<Path> forkFilterProgram() {
    return java.util.Optional.empty();
  }

  /**
   * An environment to be forked from a zygote (a sandbox made by {@link #prepareZygote}): a runtime launched in {@code zygote} (a sandbox of this backend)
   * that listens for fork requests on {@code controlSocket} (a host path, under the zygote's {@link
   * Sandbox#outputDir()}). The environment is forked now, with limits of its own, and waits: {@link
   * Sandbox#launch} only hands it its environment variables.
   *
   * @throws SandboxException when this backend cannot fork (see {@link #forks()})
   */
  default Sandbox prepareFork(Sandbox zygote, Path controlSocket, SandboxLimits limits) {
    throw new SandboxException(name() + " sandboxes cannot host forked environments");
  }

  /**
   * A sandbox like {@link #prepare}'s whose filter also kills any process making a call outside {@code allowed}
   * (a learned profile): the default policy's rules first, then the allow list. The filter is fixed when the
   * sandbox is made, so such sandboxes are made for one function and never pooled.
   *
   * @throws SandboxException when this backend cannot filter system calls, or a name is not an x86_64 call
   */
  default Sandbox prepareConfined(SandboxLimits limits, java.util.Set<String> allowed) {
    throw new SandboxException(name() + " sandboxes cannot confine a function to a system call profile");
  }

  /** Whether {@link #prepareFork} works: the forks need cgroups and namespaces to be environments of their own. */
  default boolean forks() {
    return false;
  }

  /**
   * A port of this host no function may reach whatever its network policy lists (Kiln's own API). Backends whose
   * sandboxes share the host's network cannot keep that promise and ignore it.
   */
  default void protectHostPort(int port) {}

  /** Closes every sandbox this backend made and releases its root. */
  @Override
  void close();
}
