package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** CPU proportional to memory, as a CFS quota: a hog with more busy processes than its share gets only its share. */
@Timeout(120)
class CpuQuotaTest {
  @TempDir Path temp;
  CrunBackend backend;

  @BeforeAll
  static void crunAvailable() {
    String reason = CrunBackend.unavailableReason();
    assumeTrue(reason == null, "crun sandboxes unavailable here: " + reason);
  }

  @BeforeEach
  void setUp() {
    backend = new CrunBackend(temp.resolve("sandboxes"), null);
  }

  @AfterEach
  void tearDown() {
    if (backend != null) backend.close();
  }

  @Test
  void quotaFollowsLambdasRatioAboveTheFloor() {
    assertThat(CgroupV1.cpuQuotaMicros(128)).as("floor: half a vCPU").isEqualTo(50_000);
    assertThat(CgroupV1.cpuQuotaMicros(884)).isEqualTo(50_000);
    assertThat(CgroupV1.cpuQuotaMicros(1769)).as("one vCPU").isEqualTo(100_000);
    assertThat(CgroupV1.cpuQuotaMicros(3538)).isEqualTo(200_000);
    assertThat(CgroupV1.cpuQuotaMicros(10240)).isEqualTo(578_800);
  }

  @Test
  void aHogUsesNoMoreThanItsQuotaAndTheLimitFollowsTheLaunchMemory() throws Exception {
    try (Sandbox s = backend.prepare(SandboxLimits.DEFAULTS)) {
      // three busy processes: without a quota they would take both cores of this host
      var out = Runs.start(s, List.of("/bin/sh", "-c",
          "for i in 1 2 3; do (while :; do :; done) & done; echo spinning; wait"), Map.of(), null, 128);
      out.await("spinning"::equals, Duration.ofSeconds(20));
      Path cpuGroup = backend.cgroupMounts.get("cpu").resolve(backend.root.cgroupBase()).resolve(s.id());
      assertThat(Files.readString(cpuGroup.resolve("cpu.cfs_quota_us")).trim()).isEqualTo("50000");
      assertThat(Files.readString(cpuGroup.resolve("cpu.cfs_period_us")).trim()).isEqualTo("100000");

      long cpuBefore = s.cpuTimeNanos();
      long wallBefore = System.nanoTime();
      Thread.sleep(3_000); // a measurement window, not a wait for a state
      long cpu = s.cpuTimeNanos() - cpuBefore;
      long wall = System.nanoTime() - wallBefore;
      // On a busy host (this one runs several builds at once) the hog may get less than its quota anyway, so how
      // far the quota holds a hog on an idle host is measured by bench/CpuQuotaBench, not here.
      // half a vCPU, plus one period of slack for where the window cuts the periods
      assertThat(cpu).as("CPU used over %d ms of wall time", wall / 1_000_000)
          .isLessThanOrEqualTo(wall / 2 + 100_000_000L)
          .isGreaterThan(wall / 20); // it did run: the bound above is not met by an idle sandbox
    }
  }
}
