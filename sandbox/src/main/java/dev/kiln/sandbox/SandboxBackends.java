package dev.kiln.sandbox;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the sandbox backend for this host. */
public final class SandboxBackends {
  private static final Logger log = LoggerFactory.getLogger(SandboxBackends.class);

  private SandboxBackends() {}

  /**
   * crun when running as root on Linux with crun (and socat) installed and a test sandbox actually runs;
   * otherwise the process backend, with one WARN line saying why and what isolation is missing.
   *
   * @param root host directory the backend owns (one subdirectory per sandbox)
   * @param runtimeDir host directory shown read-only at {@code /var/runtime}, or null
   */
  public static SandboxBackend detect(Path root, Path runtimeDir) {
    return detect(root, runtimeDir, SeccompMode.DEFAULT, List.of());
  }

  /**
   * {@link #detect(Path, Path)}, with crun sandboxes filtering system calls as {@code seccomp} says.
   *
   * @param dnsUpstreams {@code address[:port]} of the name servers the sandboxes' resolver forwards to; empty
   *     for the servers of the host's {@code /etc/resolv.conf}
   */
  public static SandboxBackend detect(Path root, Path runtimeDir, SeccompMode seccomp, List<String> dnsUpstreams) {
    var upstreams = new ArrayList<java.net.InetSocketAddress>();
    for (String u : dnsUpstreams) {
      try {
        upstreams.add(DnsForwarder.upstream(u));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--dns-upstream must be address[:port] with an IP address, not '" + u + "'");
      }
    }
    String reason = CrunBackend.unavailableReason();
    if (reason == null) {
      CrunBackend crun = null;
      try {
        crun = new CrunBackend(root, runtimeDir, seccomp, upstreams);
        selfTest(crun);
        return crun;
      } catch (RuntimeException e) {
        reason = "crun did not work here: " + e.getMessage();
        if (crun != null) crun.close();
      }
    }
    log.warn("Sandboxes are plain processes, not crun containers ({}): functions run as this user with NO isolation"
        + " (they share the host's file system, processes and network; memory is limited only by RLIMIT_DATA,"
        + " with no cgroup accounting or OOM kill; freeze is SIGSTOP). Run Kiln as root with crun installed"
        + " for isolated sandboxes.", reason);
    return new ProcessBackend(root, runtimeDir);
  }

  /** The backend named {@code kind}: "crun", "process", or "auto" ({@link #detect}). */
  public static SandboxBackend create(String kind, Path root, Path runtimeDir) {
    return switch (kind) {
      case "auto" -> detect(root, runtimeDir);
      case "crun" -> {
        var crun = new CrunBackend(root, runtimeDir);
        try {
          selfTest(crun);
        } catch (RuntimeException e) {
          crun.close();
          throw e;
        }
        yield crun;
      }
      case "process" -> new ProcessBackend(root, runtimeDir);
      default -> throw new IllegalArgumentException("unknown sandbox backend: " + kind + " (auto, crun, process)");
    };
  }

  /** Makes one sandbox and runs {@code echo} in it. */
  static void selfTest(SandboxBackend backend) {
    try (Sandbox s = backend.prepare(new SandboxLimits(64, 8, 64, false))) {
      var lines = new ArrayList<String>();
      s.launch(new Launch(List.of("/bin/sh", "-c", "echo kiln-self-test"), Map.of(), null, 64), line -> {
        synchronized (lines) {
          lines.add(line);
        }
      });
      Sandbox.Exit exit = s.exited().get(20, TimeUnit.SECONDS);
      synchronized (lines) {
        if (exit.code() != 0 || !lines.contains("kiln-self-test")) {
          throw new SandboxException("self-test sandbox exited with " + exit.code() + ", output " + lines);
        }
      }
    } catch (SandboxException e) {
      throw e;
    } catch (Exception e) {
      throw new SandboxException("self-test sandbox failed: " + e, e);
    }
  }
}
