package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Learned profiles in real crun sandboxes: recorded with strace from the host, then enforced by the filter. */
class SyscallProfileTest {
  static final SandboxLimits LIMITS = SandboxLimits.DEFAULTS;
  /** Reads a file and prints it: no uname(2), no socket(2). */
  static final String TRAINING = "cat /etc/hostname >/dev/null; echo trained";

  @TempDir Path temp;
  CrunBackend backend;

  @BeforeAll
  static void available() {
    String reason = CrunBackend.unavailableReason();
    assumeTrue(reason == null, "crun sandboxes unavailable here: " + reason);
    assumeTrue(SyscallRecording.unavailableReason() == null, "" + SyscallRecording.unavailableReason());
  }

  @BeforeEach
  void start() {
    backend = new CrunBackend(temp.resolve("sandboxes"), null);
  }

  @AfterEach
  void stop() {
    backend.close();
  }

  Set<String> learn() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var recording = s.recordSyscalls();
      var r = Runs.sh(s, TRAINING);
      assertThat(r.lines()).containsExactly("trained");
      return recording.stop();
    }
  }

  @Test
  void aTrainingRunRecordsTheCallsItMadeAndNoOthers() throws Exception {
    var learned = learn();
    assertThat(learned).contains("execve", "read", "write", "openat", "wait4").doesNotContain("uname", "socket",
        "ptrace");
  }

  @Test
  void aConfinedSandboxRunsWhatWasLearnedAndIsKilledNamingAnyOtherCall() throws Exception {
    var learned = learn();
    try (Sandbox s = backend.prepareConfined(LIMITS, learned)) {
      var r = Runs.sh(s, TRAINING);
      assertThat(r.exit().code()).isZero();
      assertThat(r.lines()).containsExactly("trained");
      assertThat(s.deniedSyscall()).isEmpty();
    }
    try (Sandbox s = backend.prepareConfined(LIMITS, learned)) {
      var r = Runs.run(s, List.of("/bin/sh", "-c", TRAINING + "; exec uname -a"), Map.of(), null, 128);
      assertThat(r.lines()).containsExactly("trained");
      assertThat(r.exit().code()).isEqualTo(128 + 31);
      assertThat(s.deniedSyscall()).contains("uname");
    }
  }

  @Test
  void aRecordingOfAFrozenSandboxStopsWithWhatItSaw() throws Exception {
    try (Sandbox s = backend.prepare(LIMITS)) {
      var recording = s.recordSyscalls();
      var out = Runs.start(s, List.of("/bin/sh", "-c", "cat /etc/hostname >/dev/null; echo started; exec sleep 600"),
          Map.of(), null, 128);
      out.await("started"::equals, java.time.Duration.ofSeconds(20));
      s.freeze();
      long t0 = System.nanoTime();
      var calls = recording.stop();
      assertThat((System.nanoTime() - t0) / 1_000_000).as("ms to stop").isLessThan(5000);
      assertThat(calls).contains("execve", "openat", "write");
    }
  }
}
