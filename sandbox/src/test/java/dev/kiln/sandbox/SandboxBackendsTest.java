package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxBackendsTest {
  @TempDir Path temp;

  @Test
  void detectPicksCrunWhenItWorksElseProcess() {
    try (SandboxBackend b = SandboxBackends.detect(temp.resolve("s"), null)) {
      assertThat(b.name()).isEqualTo(CrunBackend.unavailableReason() == null ? "crun" : "process");
    }
  }

  @Test
  void createByName() {
    try (SandboxBackend b = SandboxBackends.create("process", temp.resolve("p"), null)) {
      assertThat(b.name()).isEqualTo("process");
    }
    assertThatThrownBy(() -> SandboxBackends.create("vm", temp.resolve("v"), null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aRootIsOwnedByOneBackendAtATime() {
    try (SandboxBackend first = SandboxBackends.create("process", temp.resolve("r"), null)) {
      // the same JVM opening it again takes it over (the first is considered crashed)
      try (SandboxBackend second = SandboxBackends.create("process", temp.resolve("r"), null)) {
        assertThat(second.name()).isEqualTo("process");
      }
    }
  }

  @Test
  void tooLongARootIsRefusedClearly() {
    Path deep = temp.resolve("x".repeat(90));
    assertThatThrownBy(() -> SandboxBackends.create("process", deep, null))
        .isInstanceOf(SandboxException.class).hasMessageContaining("too long");
  }

  @Test
  void launchValidatesItsInput() {
    assertThatThrownBy(() -> new Launch(List.of(), Map.of(), null, 128)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Launch(List.of("A=B"), Map.of(), null, 128)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Launch(List.of("x"), Map.of("A=B", "1"), null, 128))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Launch(List.of("x"), Map.of("A", "a\0b"), null, 128))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void startScriptQuotesEverything() {
    String s = StartScript.build(new Launch(List.of("/var/runtime/bootstrap", "it's"), Map.of("K", "$(id) 'x'"), null, 128),
        "", v -> v);
    assertThat(s).isEqualTo("/usr/bin/env -i -- 'PATH=" + Launch.DEFAULT_PATH + "' 'K=$(id) '\\''x'\\''' "
        + "'/var/runtime/bootstrap' 'it'\\''s' &\nexec 2>/dev/null\nwait $!\nexit $?\n");
  }

  @Test
  void longLinesAreSplit() throws Exception {
    var lines = new java.util.ArrayList<String>();
    byte[] data = ("a".repeat(LineSplitter.MAX_LINE + 10) + "\nb\r\nc").getBytes();
    LineSplitter.pump(new java.io.ByteArrayInputStream(data), lines::add);
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).hasSize(LineSplitter.MAX_LINE);
    assertThat(lines.subList(1, 4)).containsExactly("a".repeat(10), "b", "c");
  }
}
