package dev.kiln.sources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.control.ConfigurationChange;
import dev.kiln.control.ControlPlane;
import dev.kiln.control.CreateFunctionRequest;
import dev.kiln.control.EventSourceMappingRequest;
import dev.kiln.control.EventSourceMappings;
import dev.kiln.core.EventSourceMapping;
import dev.kiln.core.EventSourceMappingState;
import dev.kiln.core.KilnException;
import dev.kiln.core.Region;
import dev.kiln.sources.sqs.SqsClients;
import dev.kiln.sources.sqs.SqsEndpoints;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreConfig;
import dev.kiln.store.Stores;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manager against a real store: stored mappings get pollers and their states settle, whether
 * they were there at start-up or changed later. The queue has no endpoint, so its poller only
 * reports that (and never invokes anything).
 */
class PollerManagerTest {
  private static final String ACCOUNT = "123456789012";
  private static final String QUEUE = "arn:aws:sqs:us-east-1:123456789012:jobs";
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @TempDir Path dir;
  private MetadataStore store;
  private EventSourceMappings mappings;
  private PollerManager manager;
  private SqsClients sqs;

  @BeforeEach
  void open() throws IOException {
    store = Stores.open(new StoreConfig.Sqlite(dir.resolve("kiln.db")));
    var control = new ControlPlane(store, new CodeStore(dir.resolve("code")), Region.DEFAULT, Clock.systemUTC(),
        v -> {});
    control.createFunction(ACCOUNT, new CreateFunctionRequest("f", new ConfigurationChange("python3.12",
        "app.handler", "arn:aws:iam::123456789012:role/r", null, null, null, null, null, null), zip(), null, false));
    mappings = new EventSourceMappings(store, control, Clock.systemUTC());
    sqs = new SqsClients(SqsEndpoints.none());
    // No invocation can happen without a queue endpoint, so no Invoker is needed.
    manager = new PollerManager(mappings, new FunctionCaller(control, null), sqs);
  }

  @AfterEach
  void close() {
    manager.close();
    sqs.close();
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

  private EventSourceMapping create(Boolean enabled) {
    return mappings.create(ACCOUNT, new EventSourceMappingRequest("f", QUEUE, null, null, null, null, null, null,
        null, null, null, null, enabled));
  }

  private EventSourceMapping awaitState(String uuid, EventSourceMappingState state) {
    return await(uuid + " " + state).atMost(PATIENCE).until(() -> mappings.get(ACCOUNT, uuid),
        m -> m.state() == state);
  }

  @Test
  void mappingsStoredBeforeStartUpArePickedUpAndSettle() {
    var enabled = create(null);
    var disabled = mappings.create(ACCOUNT, new EventSourceMappingRequest("f", QUEUE + "-2", null, null, null, null,
        null, null, null, null, null, null, false));
    manager.start();
    awaitState(enabled.uuid(), EventSourceMappingState.Enabled);
    awaitState(disabled.uuid(), EventSourceMappingState.Disabled);
    var reported = await("the poller's problem recorded").atMost(PATIENCE)
        .until(() -> mappings.get(ACCOUNT, enabled.uuid()).lastProcessingResult(), r -> r.startsWith("PROBLEM"));
    assertThat(reported).contains("--sqs-endpoint");
    assertThat(mappings.get(ACCOUNT, disabled.uuid()).lastProcessingResult())
        .as("a disabled mapping does not poll").isEqualTo(EventSourceMappings.NO_RECORDS_PROCESSED);
  }

  @Test
  void changesAreFollowedAsSoonAsTheManagerIsTold() {
    manager.start();
    var mapping = create(null);
    manager.reconcileSoon();
    awaitState(mapping.uuid(), EventSourceMappingState.Enabled);

    mappings.update(ACCOUNT, mapping.uuid(), new EventSourceMappingRequest(null, null, null, null, null, null, null,
        null, null, null, null, null, false));
    manager.reconcileSoon();
    awaitState(mapping.uuid(), EventSourceMappingState.Disabled);

    mappings.update(ACCOUNT, mapping.uuid(), new EventSourceMappingRequest(null, null, null, null, null, 5, null,
        null, null, null, null, null, true));
    manager.reconcileSoon();
    assertThat(awaitState(mapping.uuid(), EventSourceMappingState.Enabled).batchSize()).isEqualTo(5);

    mappings.delete(ACCOUNT, mapping.uuid());
    manager.reconcileSoon();
    await("deleted").atMost(PATIENCE).until(() -> {
      try {
        mappings.get(ACCOUNT, mapping.uuid());
        return false;
      } catch (KilnException e) {
        return true;
      }
    });
  }
}
