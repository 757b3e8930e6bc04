package dev.kiln.sources.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatchItemFailuresTest {
  private static final Set<String> BATCH = Set.of("m1", "m2", "m3");

  private static Optional<Set<String>> failed(String response) {
    return BatchItemFailures.failed(response.getBytes(StandardCharsets.UTF_8), BATCH);
  }

  @Test
  void noResponseOrAnEmptyListMeansEverythingSucceeded() {
    assertThat(failed("")).contains(Set.of());
    assertThat(failed("null")).contains(Set.of());
    assertThat(failed("{}")).contains(Set.of());
    assertThat(failed("{\"batchItemFailures\":null}")).contains(Set.of());
    assertThat(failed("{\"batchItemFailures\":[]}")).contains(Set.of());
  }

  @Test
  void namedMessagesFail() {
    assertThat(failed("{\"batchItemFailures\":[{\"itemIdentifier\":\"m2\"},{\"itemIdentifier\":\"m3\"}]}"))
        .contains(Set.of("m2", "m3"));
  }

  @Test
  void anythingMalformedFailsTheWholeBatch() {
    assertThat(failed("not json")).isEmpty();
    assertThat(failed("\"ok\"")).isEmpty();
    assertThat(failed("[1]")).isEmpty();
    assertThat(failed("{\"batchItemFailures\":\"m1\"}")).isEmpty();
    assertThat(failed("{\"batchItemFailures\":[{\"itemIdentifier\":\"m9\"}]}")).as("unknown id").isEmpty();
    assertThat(failed("{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}")).as("empty id").isEmpty();
    assertThat(failed("{\"batchItemFailures\":[{\"itemIdentifier\":null}]}")).as("null id").isEmpty();
    assertThat(failed("{\"batchItemFailures\":[{\"id\":\"m1\"}]}")).as("wrong key").isEmpty();
  }
}
