package dev.kiln.sources.sqs;

import dev.kiln.control.FilterCriteria;
import dev.kiln.core.EventSourceMapping;
import dev.kiln.sources.FunctionCaller;
import dev.kiln.sources.Outcome;
import dev.kiln.sources.Poller;
import dev.kiln.sources.ProcessingResults;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * Polls one SQS-compatible queue for one mapping. Each worker long-polls, gathers a batch (up to
 * BatchSize, waiting at most MaximumBatchingWindowInSeconds once the first message is in), invokes
 * the function synchronously and deletes what succeeded. A failed message is left alone, so it
 * comes back when the queue's visibility timeout runs out; Kiln never changes a message's
 * visibility. Workers are added one per second while receives come back full, up to
 * ScalingConfig.MaximumConcurrency or {@link #DEFAULT_MAX_WORKERS}, and retire when the queue is
 * empty, down to one.
 */
public final class SqsPoller implements Poller {
  private static final Logger log = LoggerFactory.getLogger(SqsPoller.class);
  static final int DEFAULT_MAX_WORKERS = 5;
  /** SQS's longest long poll; the fewest empty receives while a queue is idle. */
  static final int LONG_POLL_SECONDS = 20;
  static final int MAX_MESSAGES_PER_RECEIVE = 10;
  static final Duration SCALE_UP_INTERVAL = Duration.ofSeconds(1);
  static final Duration STOP_GRACE = Duration.ofSeconds(10);
  static final Duration FIRST_ERROR_PAUSE = Duration.ofSeconds(1);
  static final Duration MAX_ERROR_PAUSE = Duration.ofSeconds(30);

  private final EventSourceMapping mapping;
  private final SqsClients clients;
  private final FunctionCaller caller;
  private final ProcessingResults results;
  private final FilterCriteria filters;
  private final int maxWorkers;
  private final Set<Worker> workers = ConcurrentHashMap.newKeySet();
  private volatile boolean running = true;
  private long lastScaleUp;

  private SqsPoller(EventSourceMapping mapping, SqsClients clients, FunctionCaller caller, ProcessingResults results) {
    this.mapping = mapping;
    this.clients = clients;
    this.caller = caller;
    this.results = results;
    this.filters = FilterCriteria.of(mapping.filterPatterns());
    this.maxWorkers = mapping.maximumConcurrency() == null ? DEFAULT_MAX_WORKERS : mapping.maximumConcurrency();
  }

  public static SqsPoller start(EventSourceMapping mapping, SqsClients clients, FunctionCaller caller,
      ProcessingResults results) {
    var poller = new SqsPoller(mapping, clients, caller, results);
    poller.addWorker();
    return poller;
  }

  @Override
  public EventSourceMapping settings() {
    return mapping.pollerSettings();
  }

  private synchronized void addWorker() {
    if (!running || workers.size() >= maxWorkers) {
      return;
    }
    var worker = new Worker();
    workers.add(worker);
    lastScaleUp = System.nanoTime();
    worker.thread = Thread.ofVirtual().name("kiln-sqs-" + mapping.uuid()).start(worker::run);
  }

  /** After a full receive: one more worker, at most one a second. */
  private synchronized void scaleUp() {
    if (System.nanoTime() - lastScaleUp >= SCALE_UP_INTERVAL.toNanos()) {
      addWorker();
    }
  }

  /** After an empty receive: this worker goes unless it is the last one. */
  private synchronized boolean retire(Worker worker) {
    if (workers.size() > 1) {
      workers.remove(worker);
      return true;
    }
    return false;
  }

  private final class Worker {
    private volatile Thread thread;
    /** True while it waits for messages or pauses: nothing in hand, so close() may interrupt it. */
    private volatile boolean idle;

    void run() {
      long pauseMillis = FIRST_ERROR_PAUSE.toMillis();
      try {
        while (running) {
          var queue = clients.resolve(mapping.eventSourceArn());
          if (queue.isEmpty()) {
            results.problem(mapping, SqsEndpoints.noEndpointAdvice(mapping.eventSourceArn()));
            pause(MAX_ERROR_PAUSE.toMillis());
            continue;
          }
          try {
            var batch = collect(queue.get());
            pauseMillis = FIRST_ERROR_PAUSE.toMillis();
            if (batch.isEmpty()) {
              if (retire(this)) {
                return;
              }
              continue;
            }
            if (batch.size() >= Math.min(MAX_MESSAGES_PER_RECEIVE, mapping.batchSize())) {
              scaleUp();
            }
            process(queue.get(), batch);
          } catch (SdkException e) {
            if (!running) {
              return;
            }
            results.problem(mapping, "Cannot receive from " + queue.get().url() + ": " + e.getMessage());
            pause(pauseMillis);
            pauseMillis = Math.min(MAX_ERROR_PAUSE.toMillis(), pauseMillis * 2);
          } catch (RuntimeException e) {
            log.warn("mapping={} batch failed unexpectedly; its messages return after the visibility timeout",
                mapping.uuid(), e);
            pause(pauseMillis);
          }
        }
      } finally {
        workers.remove(this);
      }
    }

    private void pause(long millis) {
      idle = true;
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        // close() interrupts to end the pause; the loop checks running.
        Thread.currentThread().interrupt();
      } finally {
        idle = false;
      }
    }

    /**
     * Receives until the batch is full or, once it holds a message, the batching window is over.
     * An empty long poll returns an empty batch.
     */
    private List<Message> collect(SqsEndpoints.Queue queue) {
      var client = clients.client(queue);
      var batch = new ArrayList<Message>();
      long windowEnds = 0;
      long windowNanos = Duration.ofSeconds(mapping.maximumBatchingWindowInSeconds()).toNanos();
      while (running && batch.size() < mapping.batchSize()) {
        int waitSeconds = LONG_POLL_SECONDS;
        if (!batch.isEmpty()) {
          long remaining = windowEnds - System.nanoTime();
          if (remaining <= 0) {
            break;
          }
          waitSeconds = (int) Math.min(LONG_POLL_SECONDS, Math.ceilDiv(remaining, 1_000_000_000L));
        }
        int wanted = Math.min(MAX_MESSAGES_PER_RECEIVE, mapping.batchSize() - batch.size());
        int wait = waitSeconds;
        List<Message> received;
        idle = true;
        try {
          received = client.receiveMessage(b -> b.queueUrl(queue.url()).maxNumberOfMessages(wanted)
              .waitTimeSeconds(wait).messageSystemAttributeNames(MessageSystemAttributeName.ALL)
              .messageAttributeNames("All")).messages();
        } finally {
          idle = false;
        }
        if (batch.isEmpty()) {
          if (received.isEmpty()) {
            break;
          }
          windowEnds = System.nanoTime() + windowNanos;
        }
        batch.addAll(received);
      }
      return batch;
    }
  }

  private void process(SqsEndpoints.Queue queue, List<Message> batch) {
    var passing = new ArrayList<Message>();
    var filteredOut = new ArrayList<Message>();
    for (var message : batch) {
      (filters.passes(SqsEvents.filterView(queue, message)) ? passing : filteredOut).add(message);
    }
    // Lambda deletes what the filters leave out: nobody is going to process it.
    delete(queue, filteredOut);
    if (passing.isEmpty()) {
      return;
    }
    var outcome = caller.call(mapping, SqsEvents.event(queue, passing), () -> running);
    switch (outcome) {
      case Outcome.Failed failed -> results.problem(mapping, failed.reason());
      case Outcome.Succeeded succeeded -> {
        if (!mapping.reportsBatchItemFailures()) {
          delete(queue, passing);
          results.ok(mapping);
          return;
        }
        var ids = passing.stream().map(Message::messageId).collect(Collectors.toSet());
        var failed = BatchItemFailures.failed(succeeded.payload(), ids);
        if (failed.isEmpty()) {
          results.problem(mapping, "the function's batchItemFailures response is malformed or names a message "
              + "that is not in the batch, so the whole batch is retried");
          return;
        }
        delete(queue, passing.stream().filter(m -> !failed.get().contains(m.messageId())).toList());
        results.ok(mapping);
      }
    }
  }

  private void delete(SqsEndpoints.Queue queue, List<Message> messages) {
    var client = clients.client(queue);
    for (int from = 0; from < messages.size(); from += MAX_MESSAGES_PER_RECEIVE) {
      var chunk = messages.subList(from, Math.min(messages.size(), from + MAX_MESSAGES_PER_RECEIVE));
      var entries = new ArrayList<DeleteMessageBatchRequestEntry>();
      for (int i = 0; i < chunk.size(); i++) {
        entries.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i))
            .receiptHandle(chunk.get(i).receiptHandle()).build());
      }
      try {
        var response = client.deleteMessageBatch(b -> b.queueUrl(queue.url()).entries(entries));
        for (var failure : response.failed()) {
          log.warn("mapping={} could not delete a processed message ({}: {}); it will be delivered again",
              mapping.uuid(), failure.code(), failure.message());
        }
      } catch (SdkException e) {
        log.warn("mapping={} could not delete {} processed messages ({}); they will be delivered again",
            mapping.uuid(), chunk.size(), e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    running = false;
    for (var worker : workers) {
      // A worker waiting for messages has nothing in hand; one in a batch gets the grace below.
      if (worker.idle && worker.thread != null) {
        worker.thread.interrupt();
      }
    }
    long deadline = System.nanoTime() + STOP_GRACE.toNanos();
    for (var worker : List.copyOf(workers)) {
      joinUntil(worker, deadline);
    }
    for (var worker : List.copyOf(workers)) {
      worker.thread.interrupt();
      joinUntil(worker, System.nanoTime() + Duration.ofSeconds(2).toNanos());
    }
  }

  private static void joinUntil(Worker worker, long deadlineNanos) {
    var thread = worker.thread;
    if (thread == null) {
      return;
    }
    try {
      long left = deadlineNanos - System.nanoTime();
      if (left > 0) {
        thread.join(Duration.ofNanos(left));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
