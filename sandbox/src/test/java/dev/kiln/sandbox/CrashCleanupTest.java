package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A Kiln JVM killed with SIGKILL leaves sandboxes; the next backend on the same root removes them all. */
@Timeout(120)
class CrashCleanupTest {
  @TempDir Path temp;

  @ParameterizedTest
  @ValueSource(strings = {"crun", "process"})
  void sandboxesOfAKilledJvmAreRemovedByTheNextBackend(String kind) throws Exception {
    if (kind.equals("crun")) assumeTrue(CrunBackend.unavailableReason() == null, "no crun here");
    Path root = temp.resolve("sandboxes");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process kiln = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        CrashingKilnMain.class.getName(), kind, root.toString()).redirectErrorStream(true).start();
    List<Long> pids = new ArrayList<>();
    try {
      var reader = new BufferedReader(new InputStreamReader(kiln.getInputStream()));
      String line;
      while ((line = reader.readLine()) != null && !line.startsWith("ready ")) {
        System.err.println("child: " + line);
      }
      assertThat(line).as("child JVM output").isNotNull();
      for (String p : line.substring(6).trim().split(" ")) pids.add(Long.parseLong(p));
      assertThat(Runs.alive(pids)).hasSameSizeAs(pids);

      // While that JVM lives, nobody else may use its root.
      assertThatThrownBy(() -> SandboxBackends.create(kind, root, null))
          .isInstanceOf(SandboxException.class).hasMessageContaining("in use by another Kiln process");
    } finally {
      kiln.destroyForcibly(); // SIGKILL: no shutdown hooks, nothing closed
      kiln.waitFor(10, TimeUnit.SECONDS);
    }

    String hash = null;
    try (SandboxBackend next = SandboxBackends.create(kind, root, null)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!Runs.alive(pids).isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
      assertThat(Runs.alive(pids)).as("processes of the killed JVM's sandboxes").isEmpty();
      try (var dirs = Files.list(root)) {
        assertThat(dirs.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))).isEmpty();
      }
      if (next instanceof CrunBackend crun) {
        for (Path mount : crun.cgroupMounts.values()) {
          Path base = mount.resolve(crun.root.cgroupBase());
          if (Files.isDirectory(base)) {
            try (var groups = Files.list(base)) {
              assertThat(groups.filter(Files::isDirectory)).as("stale cgroups under " + base).isEmpty();
            }
          }
        }
        try (var state = Files.list(crun.crunState)) {
          assertThat(state).as("crun state").isEmpty();
        }
        hash = crun.network == null ? null : crun.root.hash;
      }
    }
    if (hash != null) { // the network the killed JVM's sandboxes had, and the next backend's, are gone too
      String prefix = "k" + hash.substring(0, 6) + "-";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!links(prefix).isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
      assertThat(links(prefix)).as("veths of this root").isEmpty();
      var table = new ProcessBuilder("nft", "list", "table", "inet", "kiln_" + hash).redirectErrorStream(true).start();
      assertThat(table.waitFor()).as("exit status of nft list table inet kiln_" + hash).isNotZero();
    }
  }

  private static List<String> links(String prefix) throws java.io.IOException {
    try (var links = Files.list(Path.of("/sys/class/net"))) {
      return links.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).toList();
    }
  }
}
