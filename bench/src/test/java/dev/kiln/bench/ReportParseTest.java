package dev.kiln.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ReportParseTest {
  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void readsDurationAndInitDurationFromTheReportLine() {
    var r = Functions.Report.parse(b64("START RequestId: x Version: $LATEST\nEND RequestId: x\n"
        + "REPORT RequestId: x\tDuration: 9.89 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\t"
        + "Max Memory Used: 7 MB\tInit Duration: 55.73 ms\t\n"));
    assertThat(r.durationMs()).isEqualTo(9.89);
    assertThat(r.initMs()).isEqualTo(55.73);
    assertThat(r.restoreMs()).isNull();
    assertThat(r.maxMemoryMb()).isEqualTo(7.0);
  }

  @Test
  void warmReportsHaveNoInitDuration() {
    var r = Functions.Report.parse(b64("REPORT RequestId: x\tBilled Duration: 4 ms\tDuration: 3.98 ms\t\n"));
    assertThat(r.durationMs()).isEqualTo(3.98);
    assertThat(r.initMs()).isNull();
    assertThat(Functions.Report.parse(null).durationMs()).isNull();
  }
}
