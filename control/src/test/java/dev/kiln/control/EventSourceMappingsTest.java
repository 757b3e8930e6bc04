package dev.kiln.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.EventSourceMapping;
import dev.kiln.core.EventSourceMappingState;
import dev.kiln.core.FunctionRef;
import dev.kiln.core.KilnException;
import dev.kiln.core.Region;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreConfig;
import dev.kiln.store.Stores;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventSourceMappingsTest {
  private static final String ACCOUNT = "123456789012";
  private static final String QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs";

  @TempDir Path dir;
  private MetadataStore store;
  private ControlPlane control;
  private EventSourceMappings mappings;

  @BeforeEach
  void open() throws IOException {
    store = Stores.open(new StoreConfig.Sqlite(dir.resolve("kiln.db")));
    control = new ControlPlane(store, new CodeStore(dir.resolve("code")), Region.DEFAULT, Clock.systemUTC(), v -> {});
    mappings = new EventSourceMappings(store, control, Clock.systemUTC());
    for (var name : List.of("f", "g")) {
      control.createFunction(ACCOUNT, new CreateFunctionRequest(name, new ConfigurationChange("python3.12",
          "app.handler", "arn:aws:iam::123456789012:role/r", null, null, null, null, null, null), zip(), null, false));
    }
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static byte[] zip() throws IOException {
    var bytes = new ByteArrayOutputStream();
    try (var zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("app.py"));
      zip.write("def handler(e, c): return e\n".getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }

  private static EventSourceMappingRequest sqs(String function, String queue) {
    return new EventSourceMappingRequest(function, queue, null, null, null, null, null, null, null, null, null, null,
        null);
  }

  private static EventSourceMappingRequest kafka(String function, String position) {
    return new EventSourceMappingRequest(function, null, List.of("broker-1:9092"), List.of("clicks"), null, null,
        null, null, position, null, null, null, null);
  }

  private static EventSourceMappingRequest change(Integer batchSize, Integer window, Boolean enabled) {
    return new EventSourceMappingRequest(null, null, null, null, null, batchSize, window, null, null, null, null, null,
        enabled);
  }

  private static void assertError(ErrorCode code, String text, ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOfSatisfying(KilnException.class, e -> {
      assertThat(e.code()).isEqualTo(code);
      assertThat(e.getMessage()).contains(text);
    });
  }

  @Test
  void createsWithLambdasDefaultsInCreatingState() {
    var queue = mappings.create(ACCOUNT, sqs("f", QUEUE));
    assertThat(queue.batchSize()).isEqualTo(10);
    assertThat(queue.maximumBatchingWindowInSeconds()).isZero();
    assertThat(queue.state()).isEqualTo(EventSourceMappingState.Creating);
    assertThat(queue.enabled()).isTrue();
    assertThat(mappings.functionArn(queue)).isEqualTo("arn:aws:lambda:us-east-1:123456789012:function:f");

    var topic = mappings.create(ACCOUNT, kafka("arn:aws:lambda:us-east-1:123456789012:function:f", "LATEST"));
    assertThat(topic.batchSize()).isEqualTo(100);
    assertThat(topic.effectiveConsumerGroupId()).isEqualTo(topic.uuid());
    assertThat(mappings.get(ACCOUNT, topic.uuid())).isEqualTo(topic);
  }

  @Test
  void refusesWhatLambdaRefuses() {
    assertError(ErrorCode.ResourceNotFoundException, "Function not found", () -> mappings.create(ACCOUNT, sqs("nope", QUEUE)));
    assertError(ErrorCode.ResourceNotFoundException, "Function not found",
        () -> mappings.create(ACCOUNT, sqs("f:live", QUEUE)));
    assertError(ErrorCode.InvalidParameterValueException, "not supported",
        () -> mappings.create(ACCOUNT, sqs("f", "arn:aws:kinesis:us-east-1:123456789012:stream/s")));
    assertError(ErrorCode.InvalidParameterValueException, "eventSourceArn",
        () -> mappings.create(ACCOUNT, sqs("f", "queue-name")));
    assertError(ErrorCode.InvalidParameterValueException, "Specify the event source",
        () -> mappings.create(ACCOUNT, sqs("f", null)));
    assertError(ErrorCode.InvalidParameterValueException, "StartingPosition is required",
        () -> mappings.create(ACCOUNT, kafka("f", null)));
    assertError(ErrorCode.InvalidParameterValueException, "TRIM_HORIZON or LATEST",
        () -> mappings.create(ACCOUNT, kafka("f", "AT_TIMESTAMP")));
    assertError(ErrorCode.InvalidParameterValueException, "StartingPosition is not valid for SQS",
        () -> mappings.create(ACCOUNT, new EventSourceMappingRequest("f", QUEUE, null, null, null, null, null, null,
            "LATEST", null, null, null, null)));
    assertError(ErrorCode.InvalidParameterValueException, "greater than 0 if maximum batch size is greater than 10",
        () -> mappings.create(ACCOUNT, new EventSourceMappingRequest("f", QUEUE, null, null, null, 11, null, null,
            null, null, null, null, null)));
    assertError(ErrorCode.InvalidParameterValueException, "batchSize",
        () -> mappings.create(ACCOUNT, new EventSourceMappingRequest("f", QUEUE, null, null, null, 10_001, 5, null,
            null, null, null, null, null)));
    assertError(ErrorCode.InvalidParameterValueException, "functionResponseTypes",
        () -> mappings.create(ACCOUNT, new EventSourceMappingRequest("f", QUEUE, null, null, null, null, null,
            List.of("Everything"), null, null, null, null, null)));
    assertError(ErrorCode.InvalidParameterValueException, "Invalid filter pattern",
        () -> mappings.create(ACCOUNT, new EventSourceMappingRequest("f", QUEUE, null, null, null, null, null, null,
            null, List.of("{\"body\":"), null, null, null)));
    assertError(ErrorCode.InvalidParameterValueException, "host:port",
        () -> mappings.create(ACCOUNT, new EventSourceMappingRequest("f", null, List.of("no-port"), List.of("t"),
            null, null, null, null, "LATEST", null, null, null, null)));
    assertError(ErrorCode.AccessDeniedException, "another account",
        () -> mappings.create(ACCOUNT, sqs("arn:aws:lambda:us-east-1:999999999999:function:f", QUEUE)));
  }

  @Test
  void aFunctionMapsASourceOnce() {
    var first = mappings.create(ACCOUNT, sqs("f", QUEUE));
    assertError(ErrorCode.ResourceConflictException, first.uuid(), () -> mappings.create(ACCOUNT, sqs("f", QUEUE)));
    var second = mappings.create(ACCOUNT, sqs("g", QUEUE));
    assertError(ErrorCode.ResourceConflictException, "already has",
        () -> mappings.update(ACCOUNT, second.uuid(), new EventSourceMappingRequest("f", null, null, null, null, null,
            null, null, null, null, null, null, null)));
  }

  @Test
  void updatesMoveThroughLambdasStates() {
    var created = mappings.create(ACCOUNT, sqs("f", QUEUE));
    var disabling = mappings.update(ACCOUNT, created.uuid(), change(null, null, false));
    assertThat(disabling.state()).isEqualTo(EventSourceMappingState.Disabling);
    assertThat(disabling.enabled()).isFalse();
    var updating = mappings.update(ACCOUNT, created.uuid(), change(50, 2, null));
    assertThat(updating.state()).isEqualTo(EventSourceMappingState.Updating);
    assertThat(updating.batchSize()).isEqualTo(50);
    var enabling = mappings.update(ACCOUNT, created.uuid(), change(null, null, true));
    assertThat(enabling.state()).isEqualTo(EventSourceMappingState.Enabling);
    assertError(ErrorCode.InvalidParameterValueException, "greater than 0",
        () -> mappings.update(ACCOUNT, created.uuid(), change(null, 0, null)));
    assertError(ErrorCode.ResourceNotFoundException, "does not exist",
        () -> mappings.update(ACCOUNT, "0f1e2d3c-0000-0000-0000-000000000000", change(5, null, null)));

    var deleting = mappings.delete(ACCOUNT, created.uuid());
    assertThat(deleting.state()).isEqualTo(EventSourceMappingState.Deleting);
    assertError(ErrorCode.ResourceConflictException, "being deleted",
        () -> mappings.update(ACCOUNT, created.uuid(), change(5, null, null)));
  }

  @Test
  void settlingIgnoresAMappingThatChangedMeanwhile() {
    var created = mappings.create(ACCOUNT, sqs("f", QUEUE));
    assertThat(mappings.settle(created, EventSourceMappingState.Enabled)).get()
        .extracting(EventSourceMapping::state).isEqualTo(EventSourceMappingState.Enabled);
    var enabled = mappings.get(ACCOUNT, created.uuid());
    mappings.update(ACCOUNT, created.uuid(), change(null, null, false));
    assertThat(mappings.settle(enabled, EventSourceMappingState.Enabled)).isEmpty();
    assertThat(mappings.get(ACCOUNT, created.uuid()).state()).isEqualTo(EventSourceMappingState.Disabling);

    mappings.recordResult(created, "OK");
    assertThat(mappings.get(ACCOUNT, created.uuid()).lastProcessingResult()).isEqualTo("OK");

    var deleting = mappings.delete(ACCOUNT, created.uuid());
    mappings.finishDeletion(deleting);
    assertError(ErrorCode.ResourceNotFoundException, "does not exist", () -> mappings.get(ACCOUNT, created.uuid()));
  }

  @Test
  void listsFilterAndPage() {
    var a = mappings.create(ACCOUNT, sqs("f", QUEUE));
    var b = mappings.create(ACCOUNT, sqs("g", QUEUE));
    var c = mappings.create(ACCOUNT, sqs("g", QUEUE + "-2"));
    var sorted = java.util.stream.Stream.of(a, b, c).map(EventSourceMapping::uuid).sorted().toList();
    var first = mappings.list(ACCOUNT, null, null, null, 2);
    assertThat(first.items()).extracting(EventSourceMapping::uuid).containsExactlyElementsOf(sorted.subList(0, 2));
    var rest = mappings.list(ACCOUNT, null, null, first.nextMarker(), 2);
    assertThat(rest.items()).extracting(EventSourceMapping::uuid).containsExactly(sorted.get(2));
    assertThat(rest.nextMarker()).isNull();
    assertThat(mappings.list(ACCOUNT, "g", null, null, null).items()).hasSize(2);
    assertThat(mappings.list(ACCOUNT, "g", QUEUE, null, null).items()).extracting(EventSourceMapping::uuid)
        .containsExactly(b.uuid());
    assertThat(mappings.list(ACCOUNT, null, null, null, null).items()).hasSize(3);

    control.deleteFunction(ACCOUNT, FunctionRef.parse("g", null));
    assertThat(mappings.list(ACCOUNT, null, null, null, null).items()).extracting(EventSourceMapping::uuid)
        .containsExactly(a.uuid());
  }
}
