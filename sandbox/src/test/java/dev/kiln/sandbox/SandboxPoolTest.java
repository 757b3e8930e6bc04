package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class SandboxPoolTest {
  static final SandboxLimits DEFAULTS = new SandboxLimits(128, 64, 128, false);
  @TempDir Path temp;
  SandboxBackend backend;

  @BeforeEach
  void setUp() {
    backend = SandboxBackends.detect(temp.resolve("sandboxes"), null);
  }

  @AfterEach
  void tearDown() {
    backend.close();
  }

  private void awaitReady(SandboxPool pool, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (pool.ready() < n && System.nanoTime() < deadline) Thread.sleep(10);
    assertThat(pool.ready()).isEqualTo(n);
  }

  @Test
  void keepsTargetSandboxesReadyAndRefills() throws Exception {
    try (var pool = new SandboxPool(backend, DEFAULTS, 3)) {
      awaitReady(pool, 3);
      Thread.sleep(100);
      assertThat(pool.ready()).as("never more than the target").isEqualTo(3);
      var taken = new ArrayList<Sandbox>();
      try {
        for (int i = 0; i < 3; i++) taken.add(pool.take(DEFAULTS.withMemoryMb(256)));
        assertThat(pool.hits()).isEqualTo(3);
        awaitReady(pool, 3);
        // a pooled sandbox works like a fresh one, with the launch's memory size
        var r = Runs.run(taken.getFirst(), List.of("/bin/sh", "-c", "echo pooled"), Map.of(), null, 256);
        assertThat(r.lines()).containsExactly("pooled");
      } finally {
        taken.forEach(Sandbox::close);
      }
    }
  }

  @Test
  void otherShapesArePreparedOnDemand() throws Exception {
    try (var pool = new SandboxPool(backend, DEFAULTS, 1)) {
      awaitReady(pool, 1);
      try (Sandbox s = pool.take(new SandboxLimits(128, 32, 128, false))) {
        assertThat(pool.misses()).isEqualTo(1);
        assertThat(pool.hits()).isZero();
        assertThat(s.limits().ephemeralStorageMb()).isEqualTo(32);
        assertThat(Runs.sh(s, "echo fresh").lines()).containsExactly("fresh");
      }
      assertThat(pool.ready()).isEqualTo(1);
    }
  }

  @Test
  void aDeadPooledSandboxIsNotHandedOut() throws Exception {
    try (var pool = new SandboxPool(backend, DEFAULTS, 1)) {
      awaitReady(pool, 1);
      // kill the pooled sandbox's processes behind the pool's back
      Sandbox victim;
      try (Sandbox probe = pool.take(DEFAULTS)) {
        victim = probe;
      }
      assertThat(victim.exited().get(10, TimeUnit.SECONDS).code()).isEqualTo(137);
      awaitReady(pool, 1);
      try (Sandbox s = pool.take(DEFAULTS)) {
        assertThat(s).isNotSameAs(victim);
        assertThat(Runs.sh(s, "echo alive").lines()).containsExactly("alive");
      }
    }
  }

  @Test
  void closeRemovesThePooledSandboxes() throws Exception {
    Path root = temp.resolve("sandboxes");
    var pool = new SandboxPool(backend, DEFAULTS, 2);
    awaitReady(pool, 2);
    pool.close();
    try (var dirs = Files.list(root)) {
      assertThat(dirs.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))).isEmpty();
    }
  }
}
