package dev.kiln.sandbox;

/**
 * Resource limits fixed when a sandbox is made.
 *
 * @param memoryMb memory limit in MiB until {@link Launch#memoryMb()} replaces it at launch
 * @param ephemeralStorageMb size of the writable {@code /tmp} (a tmpfs in crun sandboxes, so its pages
 *     also count against the memory limit)
 * @param maxPids most processes and threads the function may run at once
 * @param network {@code false}: a private network namespace with only loopback (crun); {@code true}:
 *     outbound network through the host's network namespace (see {@link SandboxBackend})
 */
public record SandboxLimits(int memoryMb, int ephemeralStorageMb, int maxPids, boolean network) {

  /** Lambda's defaults: 128 MB memory, 512 MB /tmp, no outbound network. */
  public static final SandboxLimits DEFAULTS = new SandboxLimits(128, 512, 1024, false);

  public SandboxLimits {
    if (memoryMb < 16) throw new IllegalArgumentException("memoryMb must be at least 16: " + memoryMb);
    if (ephemeralStorageMb < 1) throw new IllegalArgumentException("ephemeralStorageMb must be positive: " + ephemeralStorageMb);
    if (maxPids < 1) throw new IllegalArgumentException("maxPids must be positive: " + maxPids);
  }

  /** True when a sandbox made with these limits can serve {@code other}: everything but memory matches. */
  public boolean sameShape(SandboxLimits other) {
    return ephemeralStorageMb == other.ephemeralStorageMb && maxPids == other.maxPids && network == other.network;
  }

  /** These limits with another memory size. */
  public SandboxLimits withMemoryMb(int mb) {
    return new SandboxLimits(mb, ephemeralStorageMb, maxPids, network);
  }
}
