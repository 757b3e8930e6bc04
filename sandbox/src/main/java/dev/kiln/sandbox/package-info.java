/**
 * Isolated execution sandboxes for Kiln's runtimes.
 *
 * <p>{@link dev.kiln.sandbox.SandboxBackends#detect} picks a {@link dev.kiln.sandbox.SandboxBackend}: crun
 * containers as root (namespaces, cgroup v1 limits, read-only root, uid 65534, no capabilities), or plain
 * processes with rlimits and no isolation otherwise. A backend prepares empty {@link
 * dev.kiln.sandbox.Sandbox sandboxes} (an idle shell and the Runtime API bridge already running), which
 * {@link dev.kiln.sandbox.SandboxPool} keeps ready so a cold start skips sandbox creation; {@code launch}
 * then only places the code, sets the memory limit and starts the runtime.
 *
 * <p>Runtime API transport: the worker listens on a Unix socket per sandbox ({@link
 * dev.kiln.sandbox.Sandbox#runtimeApiSocket()}). In a crun sandbox the runtime connects to
 * {@code 127.0.0.1:9001} exactly as on Lambda: a listener the JVM opened inside the sandbox's own network
 * namespace (or, as a fallback, socat inside the sandbox) forwards each connection to that socket; the
 * namespace keeps the sandbox off the host's loopback and away from every other sandbox's socket. See
 * {@code CrunBackend} for the measurements behind that choice and why not a veth pair.
 *
 * <p>JVM flag: the relay and signals use the FFM API (setns, kill); run Kiln with
 * {@code --enable-native-access=ALL-UNNAMED} to avoid the JDK's warning. Without native access the crun
 * backend falls back to socat and signals go through {@code /usr/bin/kill}.
 */
package dev.kiln.sandbox;
