package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogStoreTest {
  @TempDir java.nio.file.Path dir;

  @Test
  void readsWhatWasAppendedAndContinuesFromAPosition() {
    var logs = new LogStore(dir);
    logs.append("000000000000", "f", "r1", 100, List.of("START RequestId: r1", "hello\tworld", "END RequestId: r1"));
    var first = logs.read("000000000000", "f", 0, 100);
    assertThat(first.events()).extracting(LogStore.LogEvent::message)
        .containsExactly("START RequestId: r1", "hello\tworld", "END RequestId: r1");
    assertThat(first.events()).allSatisfy(e -> assertThat(e.requestId()).isEqualTo("r1"));
    logs.append("000000000000", "f", "r2", 200, List.of("two\nlines"));
    var next = logs.read("000000000000", "f", first.nextPosition(), 100);
    assertThat(next.events()).singleElement().satisfies(e -> {
      assertThat(e.message()).isEqualTo("two lines");
      assertThat(e.timestamp()).isEqualTo(200);
    });
    assertThat(logs.read("000000000000", "f", next.nextPosition(), 100).events()).isEmpty();
    assertThat(logs.end("000000000000", "f")).isEqualTo(next.nextPosition());
  }

  @Test
  void pagesStopAtTheLimitOnARecordBoundary() {
    var logs = new LogStore(dir);
    logs.append("000000000000", "g", "r", 1, List.of("a", "b", "c"));
    var page = logs.read("000000000000", "g", 0, 2);
    assertThat(page.events()).hasSize(2);
    assertThat(logs.read("000000000000", "g", page.nextPosition(), 10).events())
        .extracting(LogStore.LogEvent::message).containsExactly("c");
    assertThat(logs.read("000000000000", "missing", 0, 10).events()).isEmpty();
  }
}
