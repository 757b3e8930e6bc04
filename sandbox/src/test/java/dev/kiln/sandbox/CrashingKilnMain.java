package dev.kiln.sandbox;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Stands in for a Kiln server that is about to be killed with {@code kill -9}: makes an idle and a running
 * sandbox, prints their process ids, then waits forever. Used by {@link CrashCleanupTest}.
 */
public final class CrashingKilnMain {
  public static void main(String[] args) throws Exception {
    SandboxBackend backend = SandboxBackends.create(args[0], Path.of(args[1]), null);
    Sandbox idle = backend.prepare(SandboxContract.LIMITS);
    Sandbox running = backend.prepare(SandboxContract.LIMITS);
    var out = Runs.start(running, List.of("/bin/sh", "-c", "sleep 1000 & echo started; exec sleep 1000"), Map.of(), null, 128);
    out.await("started"::equals, java.time.Duration.ofSeconds(20));
    var pids = new java.util.ArrayList<Long>(((AbstractSandbox) idle).processIds());
    pids.addAll(((AbstractSandbox) running).processIds());
    System.out.println("ready " + String.join(" ", pids.stream().map(String::valueOf).toList()));
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
