package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The process backend (works as any user; as root here). */
class ProcessSandboxTest extends SandboxContract {

  @Override
  boolean isolated() {
    return false;
  }

  @Override
  SandboxBackend newBackend(Path root, Path runtimeDir) {
    return new ProcessBackend(root, runtimeDir);
  }

  @Override
  List<Long> processes(Sandbox s) {
    return ((ProcessSandbox) s).processIds();
  }

  @Test
  void sandboxPathsAreRewrittenToHostPaths() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var p = (ProcessSandbox) s;
      Path task = s.runtimeApiSocket().getParent().getParent().resolve("task");
      assertThat(p.hostPath("/var/task")).isEqualTo(task.toString());
      assertThat(p.hostPath("/var/task/lib:/opt/lib:/var/runtime")).isEqualTo(task + "/lib:/opt/lib:" + runtimeDir);
      assertThat(p.hostPath("/var/taskforce")).isEqualTo("/var/taskforce");
      assertThat(p.hostPath("/x/var/task")).isEqualTo("/x/var/task");
      assertThat(s.runtimeApiAddress()).matches("127\\.0\\.0\\.1:\\d+");
    }
  }

  @Test
  void dataLimitFollowsTheLaunchMemory() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var r = Runs.run(s, List.of("/bin/sh", "-c", "ulimit -d; ulimit -n; cd /var/task && pwd -P"), Map.of(), null, 200);
      assertThat(r.lines().subList(0, 2)).containsExactly(Long.toString(200 * 1024), "1024");
    }
  }
}
