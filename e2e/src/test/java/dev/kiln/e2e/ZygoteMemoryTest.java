package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Zygotes (Python start-up snapshots) are processes holding what the function's init made: the node's memory budget
 * counts each one, and the child it keeps forked ahead, like an environment, from CreateFunction on and without any
 * invoke, and gives the memory back when the function is deleted ({@code committedMemoryMb} of GET /kiln/v1/stats).
 */
class ZygoteMemoryTest extends InvokeTestBase {
  private static final int MEMORY_MB = 256;

  /** An init that keeps 100 MiB, touched so that it is really charged. */
  private static final String BIG_INIT = """
      KEPT = bytearray(b'\\x01' * (100 * 1024 * 1024))

      def handler(event, context):
          return {'kept': len(KEPT)}
      """;

  @Override
  protected boolean snapshots() {
    return true;
  }

  @Test
  void zygotesCountAgainstTheMemoryBudgetUntilTheirFunctionIsDeleted() {
    long committedBefore = workerStats().path("committedMemoryMb").asLong();
    int zygotesBefore = workerStats().path("zygotes").asInt();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      names.add(deploy("zygote-mem", "python3.12", "lambda_function.handler", Functions.python(BIG_INIT),
          b -> b.memorySize(MEMORY_MB)));
    }
    await("three zygotes up").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
        .until(() -> workerStats().path("zygotes").asInt() >= zygotesBefore + 3);
    // Each zygote holds its function's memory size; no invoke has run.
    await("the zygotes' memory committed").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> workerStats().path("committedMemoryMb").asLong() - committedBefore >= 3L * MEMORY_MB);
    assertThat(workerStats().path("environments").path("BUSY").asLong()).isZero();

    for (String name : names) {
      lambda.deleteFunction(b -> b.functionName(name));
    }
    await("the zygotes' memory given back").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> workerStats().path("committedMemoryMb").asLong() == committedBefore);
    assertThat(workerStats().path("zygotes").asInt()).isEqualTo(zygotesBefore);
  }
}
