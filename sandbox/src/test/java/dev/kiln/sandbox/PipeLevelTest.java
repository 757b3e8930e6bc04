package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PipeLevelTest {
  @Test
  void measuresWhatAChildWroteAndNobodyReadYet() throws Exception {
    var process = new ProcessBuilder("sh", "-c", "printf abc; sleep 3").redirectErrorStream(true).start();
    try {
      Thread.sleep(300);
      var level = PipeLevel.ofStdout(process.pid());
      assertThat(level).isNotNull();
      assertThat(level.unread()).isEqualTo(3);
      process.getInputStream().readNBytes(3);
      assertThat(level.unread()).isZero();
    } finally {
      process.destroyForcibly();
    }
  }
}
