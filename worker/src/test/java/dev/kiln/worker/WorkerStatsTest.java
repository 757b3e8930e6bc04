package dev.kiln.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.CodeRef;
import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.LastUpdateStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerStatsTest {
  private static FunctionVersion version(String account, int memoryMb) {
    return new FunctionVersion(account, "f", "1", "nodejs22.x", "index.handler", "arn:aws:iam::" + account + ":role/r",
        "", memoryMb, 3, 512, Map.of(), List.of(), new CodeRef("0".repeat(64), 0), Instant.now(), "rev",
        FunctionState.Active, LastUpdateStatus.Successful);
  }

  @Test
  void eachAccountSeesItsOwnShareAndTheNodeTheSum() {
    var stats = new WorkerStats();
    var a = version("111111111111", 256);
    var b = version("222222222222", 128);
    stats.transition(a, null, EnvironmentState.CREATED);
    stats.transition(a, EnvironmentState.CREATED, EnvironmentState.IDLE);
    stats.coldStarts.increment(a.account());
    stats.warmStarts.increment(a.account());
    stats.transition(b, null, EnvironmentState.CREATED);
    stats.coldStarts.increment(b.account());

    var ofA = stats.of(a.account());
    assertThat(ofA.environments()).containsEntry(EnvironmentState.IDLE, 1L).containsEntry(EnvironmentState.CREATED, 0L);
    assertThat(ofA.coldStarts()).isEqualTo(1);
    assertThat(ofA.warmStarts()).isEqualTo(1);
    assertThat(ofA.memoryMb()).isEqualTo(256);
    var ofB = stats.of(b.account());
    assertThat(ofB.environments()).containsEntry(EnvironmentState.CREATED, 1L).containsEntry(EnvironmentState.IDLE, 0L);
    assertThat(ofB.warmStarts()).isZero();
    assertThat(ofB.memoryMb()).isEqualTo(128);
    assertThat(stats.coldStarts()).isEqualTo(2);
    assertThat(stats.of("333333333333").memoryMb()).isZero();

    stats.transition(a, EnvironmentState.IDLE, EnvironmentState.RETIRED);
    assertThat(stats.of(a.account()).memoryMb()).as("a retired environment's memory is given back").isZero();
    assertThat(stats.of(a.account()).environments()).containsEntry(EnvironmentState.IDLE, 0L);
    assertThat(stats.entered(EnvironmentState.RETIRED)).isEqualTo(1);
  }
}
