package dev.kiln.sources.kafka;

import dev.kiln.control.FilterCriteria;
import dev.kiln.core.EventSourceMapping;
import dev.kiln.sources.FunctionCaller;
import dev.kiln.sources.Outcome;
import dev.kiln.sources.Poller;
import dev.kiln.sources.ProcessingResults;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes one topic of a self-managed Kafka cluster for one mapping, in the mapping's consumer
 * group. Each partition has at most one batch in flight, so records of a partition reach the
 * function in order and a topic is processed with as many concurrent invocations as it has
 * partitions. A batch's offsets are committed only after the function succeeded with it; a failed
 * batch is fetched again from its first offset and retried (after a growing pause), never skipped.
 *
 * <p>One thread owns the consumer (it is not thread-safe): it polls, hands batches to virtual
 * threads that invoke the function, and commits or rewinds as they finish.
 */
public final class KafkaPoller implements Poller {
  private static final Logger log = LoggerFactory.getLogger(KafkaPoller.class);
  /** How long one poll waits; also how soon a finished batch is committed and the next one sent. */
  static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
  static final Duration STOP_GRACE = Duration.ofSeconds(10);
  static final Duration FIRST_RETRY_PAUSE = Duration.ofMillis(500);
  static final Duration MAX_RETRY_PAUSE = Duration.ofSeconds(30);
  /** Without any partition after this long, the cluster or the topic is likely unreachable. */
  static final Duration ASSIGNMENT_EXPECTED = Duration.ofSeconds(30);
  /** Kafka's session timeout: how soon the group notices a node that died. */
  static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);

  private final EventSourceMapping mapping;
  private final FunctionCaller caller;
  private final ProcessingResults results;
  private final FilterCriteria filters;
  private final String bootstrapServers;
  private final String topic;
  private final ExecutorService invocations = Executors.newVirtualThreadPerTaskExecutor();
  private final Queue<Finished> finished = new ConcurrentLinkedQueue<>();
  /** Only the consumer's thread touches this. */
  private final Map<TopicPartition, Partition> partitions = new HashMap<>();
  private volatile boolean running = true;
  private Thread thread;

  /** What the consumer's thread knows of one assigned partition. */
  private static final class Partition {
    final ArrayDeque<ConsumerRecord<byte[], byte[]>> pending = new ArrayDeque<>();
    /** When the oldest pending record arrived, for the batching window. */
    long waitingSince;
    Batch inFlight;
    long retryAt;
    long retryPauseMillis = FIRST_RETRY_PAUSE.toMillis();
  }

  /** Offsets {@code [firstOffset, nextOffset)} of one partition, handed to the function. */
  private record Batch(TopicPartition partition, long firstOffset, long nextOffset) {}

  private record Finished(Batch batch, Outcome outcome) {}

  private KafkaPoller(EventSourceMapping mapping, FunctionCaller caller, ProcessingResults results) {
    this.mapping = mapping;
    this.caller = caller;
    this.results = results;
    this.filters = FilterCriteria.of(mapping.filterPatterns());
    this.bootstrapServers = String.join(",", mapping.kafkaBootstrapServers());
    this.topic = mapping.topics().getFirst();
  }

  public static KafkaPoller start(EventSourceMapping mapping, FunctionCaller caller, ProcessingResults results) {
    var poller = new KafkaPoller(mapping, caller, results);
    poller.thread = Thread.ofVirtual().name("kiln-kafka-" + mapping.uuid()).start(poller::run);
    return poller;
  }

  @Override
  public EventSourceMapping settings() {
    return mapping.pollerSettings();
  }

  private Properties config() {
    var config = new Properties();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, mapping.effectiveConsumerGroupId());
    // Static membership: a node restarted after a crash takes its partitions back at once instead
    // of waiting for the group to give up on the old member.
    config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "kiln-" + mapping.uuid());
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, "kiln-" + mapping.uuid());
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
        "TRIM_HORIZON".equals(mapping.startingPosition()) ? "earliest" : "latest");
    config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(Math.max(500, mapping.batchSize())));
    config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Long.toString(SESSION_TIMEOUT.toMillis()));
    config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Long.toString(SESSION_TIMEOUT.toMillis() / 3));
    // A mapping reads a topic; it never creates one by naming it.
    config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    return config;
  }

  /** Consumes until closed; a consumer that cannot start or breaks down is replaced after a pause. */
  private void run() {
    long pauseMillis = FIRST_RETRY_PAUSE.toMillis();
    try {
      while (running) {
        try {
          consume();
        } catch (RuntimeException e) {
          if (!running) {
            break;
          }
          results.problem(mapping, "Connection error: the Kafka consumer of " + topic + " at " + bootstrapServers
              + " failed (" + e.getMessage() + "); retrying in " + pauseMillis + " ms");
          pauseWhileRunning(pauseMillis);
          pauseMillis = Math.min(MAX_RETRY_PAUSE.toMillis(), pauseMillis * 2);
        }
      }
    } finally {
      invocations.shutdownNow();
    }
  }

  private void consume() {
    partitions.clear();
    try (var consumer = new KafkaConsumer<>(config(), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic), new Rebalance(consumer));
      long started = System.nanoTime();
      boolean warned = false;
      while (running) {
        var records = consumer.poll(POLL_TIMEOUT);
        long now = System.nanoTime();
        for (var partition : records.partitions()) {
          var state = partitions.get(partition);
          if (state != null) {
            if (state.pending.isEmpty()) {
              state.waitingSince = now;
            }
            state.pending.addAll(records.records(partition));
          }
        }
        complete(consumer);
        dispatch(consumer, now);
        pauseBusyPartitions(consumer, now);
        if (!warned && partitions.isEmpty() && now - started > ASSIGNMENT_EXPECTED.toNanos()) {
          warned = true;
          results.problem(mapping, "Connection error: no partition of topic " + topic + " was assigned within "
              + ASSIGNMENT_EXPECTED.toSeconds() + " s. Check that Kiln can reach " + bootstrapServers
              + " and that the topic exists.");
        }
      }
      drain(consumer, List.copyOf(partitions.keySet()));
    }
  }

  /** Commits what succeeded and rewinds what failed, as invocations report back. */
  private void complete(KafkaConsumer<byte[], byte[]> consumer) {
    var commits = new HashMap<TopicPartition, OffsetAndMetadata>();
    Finished done;
    while ((done = finished.poll()) != null) {
      var batch = done.batch();
      var state = partitions.get(batch.partition());
      if (state == null || state.inFlight != batch) {
        continue;
      }
      state.inFlight = null;
      switch (done.outcome()) {
        case Outcome.Succeeded succeeded -> {
          commits.put(batch.partition(), new OffsetAndMetadata(batch.nextOffset()));
          state.retryPauseMillis = FIRST_RETRY_PAUSE.toMillis();
          results.ok(mapping);
        }
        case Outcome.Failed failed -> {
          // Everything after the batch that was already fetched goes too: it comes again after the batch.
          consumer.seek(batch.partition(), batch.firstOffset());
          state.pending.clear();
          state.retryAt = System.nanoTime() + state.retryPauseMillis * 1_000_000L;
          log.info("mapping={} batch {}@{}-{} failed ({}); retrying in {} ms", mapping.uuid(), batch.partition(),
              batch.firstOffset(), batch.nextOffset() - 1, failed.reason(), state.retryPauseMillis);
          state.retryPauseMillis = Math.min(MAX_RETRY_PAUSE.toMillis(), state.retryPauseMillis * 2);
          results.problem(mapping, failed.reason());
        }
      }
    }
    commit(consumer, commits);
  }

  /** Starts a batch on every idle partition whose records fill one or have waited out the window. */
  private void dispatch(KafkaConsumer<byte[], byte[]> consumer, long now) {
    long windowNanos = Duration.ofSeconds(mapping.maximumBatchingWindowInSeconds()).toNanos();
    for (var entry : partitions.entrySet()) {
      var partition = entry.getKey();
      var state = entry.getValue();
      if (state.inFlight != null || state.pending.isEmpty() || now < state.retryAt) {
        continue;
      }
      if (state.pending.size() < mapping.batchSize() && now - state.waitingSince < windowNanos) {
        continue;
      }
      var taken = new ArrayList<ConsumerRecord<byte[], byte[]>>();
      while (taken.size() < mapping.batchSize() && !state.pending.isEmpty()) {
        taken.add(state.pending.poll());
      }
      state.waitingSince = now;
      var batch = new Batch(partition, taken.getFirst().offset(), taken.getLast().offset() + 1);
      var passing = taken.stream().filter(r -> filters.passes(KafkaEvents.filterView(r))).toList();
      if (passing.isEmpty()) {
        // Nothing for the function: the filtered-out records are committed past, as Lambda does.
        commit(consumer, Map.of(partition, new OffsetAndMetadata(batch.nextOffset())));
        continue;
      }
      state.inFlight = batch;
      var event = KafkaEvents.event(bootstrapServers, partition.topic(), partition.partition(), passing);
      invocations.execute(() -> finished.add(new Finished(batch, caller.call(mapping, event, () -> running))));
    }
  }

  /**
   * Pauses fetching for partitions that cannot take more now (a batch in flight, a full batch
   * waiting, or a retry pause), so records do not pile up in memory.
   */
  private void pauseBusyPartitions(KafkaConsumer<byte[], byte[]> consumer, long now) {
    var paused = consumer.paused();
    var pause = new ArrayList<TopicPartition>();
    var resume = new ArrayList<TopicPartition>();
    for (var entry : partitions.entrySet()) {
      var state = entry.getValue();
      boolean busy = state.inFlight != null || state.pending.size() >= mapping.batchSize() || now < state.retryAt;
      if (busy && !paused.contains(entry.getKey())) {
        pause.add(entry.getKey());
      } else if (!busy && paused.contains(entry.getKey())) {
        resume.add(entry.getKey());
      }
    }
    consumer.pause(pause);
    consumer.resume(resume);
  }

  private void commit(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, OffsetAndMetadata> offsets) {
    if (offsets.isEmpty()) {
      return;
    }
    try {
      consumer.commitSync(offsets);
    } catch (KafkaException e) {
      log.warn("mapping={} could not commit {} ({}); those records will be delivered again", mapping.uuid(),
          offsets, e.toString());
    }
  }

  /** Lets the batches in flight on these partitions finish (within the grace) and acknowledges them. */
  private void drain(KafkaConsumer<byte[], byte[]> consumer, Collection<TopicPartition> leaving) {
    long deadline = System.nanoTime() + STOP_GRACE.toNanos();
    while (System.nanoTime() < deadline && leaving.stream().anyMatch(this::inFlight)) {
      complete(consumer);
      sleep(20);
    }
    complete(consumer);
  }

  private boolean inFlight(TopicPartition partition) {
    var state = partitions.get(partition);
    return state != null && state.inFlight != null;
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    private final KafkaConsumer<byte[], byte[]> consumer;

    Rebalance(KafkaConsumer<byte[], byte[]> consumer) {
      this.consumer = consumer;
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
      assigned.forEach(p -> partitions.putIfAbsent(p, new Partition()));
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
      drain(consumer, revoked);
      revoked.forEach(partitions::remove);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> lost) {
      // Another member may own them already: nothing of theirs may be committed from here.
      lost.forEach(partitions::remove);
    }
  }

  /** Pauses in short steps, so close() need not wait out a long pause. */
  private void pauseWhileRunning(long millis) {
    long end = System.nanoTime() + millis * 1_000_000L;
    while (running && System.nanoTime() < end) {
      sleep(50);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    running = false;
    try {
      if (!thread.join(STOP_GRACE.plusSeconds(5))) {
        thread.interrupt();
        thread.join(Duration.ofSeconds(5));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
