package dev.kiln.invoke.async;

import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreTransaction;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs many small writes of the queue in one store transaction. Each accepted or settled event is
 * one durable commit, and a commit costs an fsync; writes that arrive while one commit is under way
 * share the next, so the queue takes as many events per second as the store commits batches, not
 * single rows. A caller returns only once its write is committed.
 *
 * <p>When a batch fails, each of its writes is run again alone, so one bad write fails only its own
 * caller.
 */
final class GroupCommit implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GroupCommit.class);
  private static final int MAX_BATCH = 256;
  /** Event payloads of up to 1 MB travel through here; this bounds what one transaction holds. */
  private static final long MAX_BATCH_BYTES = 16L * 1024 * 1024;

  private record Write<T>(Function<StoreTransaction, T> work, long bytes, CompletableFuture<T> done) {}

  /** Queued by {@link #close}: everything before it is still committed, nothing after it is taken. */
  private static final Write<Void> END = new Write<>(tx -> null, 0, new CompletableFuture<>());

  private final MetadataStore store;
  private final LinkedBlockingQueue<Write<?>> pending = new LinkedBlockingQueue<>();
  private final Thread writer;
  private volatile boolean closed;
  /** Set once the writer has stopped taking writes; whoever queues after that fails the write itself. */
  private volatile boolean stopped;

  GroupCommit(MetadataStore store) {
    this.store = store;
    this.writer = Thread.ofVirtual().name("async-group-commit").start(this::commitLoop);
  }

  /**
   * Runs {@code work} in a write transaction shared with other writes and returns its result once
   * that transaction is committed.
   *
   * @param bytes roughly how much the write stores, to bound a batch
   */
  <T> T write(Function<StoreTransaction, T> work, long bytes) {
    if (closed) {
      throw new IllegalStateException("the asynchronous queue is shut down");
    }
    var write = new Write<>(work, bytes, new CompletableFuture<>());
    pending.add(write);
    if (stopped) {
      failQueued();
    }
    try {
      return write.done().join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  private void commitLoop() {
    var batch = new ArrayList<Write<?>>();
    boolean ended = false;
    while (!ended) {
      Write<?> write;
      try {
        write = pending.take();
      } catch (InterruptedException e) {
        break;
      }
      long bytes = 0;
      // Everything that queued up while the last commit ran goes into this one, within the bounds.
      while (write != null) {
        if (write == END) {
          ended = true;
          break;
        }
        batch.add(write);
        bytes += write.bytes();
        write = batch.size() < MAX_BATCH && bytes < MAX_BATCH_BYTES ? pending.poll() : null;
      }
      if (!batch.isEmpty()) {
        commit(batch);
        batch.clear();
      }
    }
    stopped = true;
    failQueued();
  }

  private void failQueued() {
    for (var write = pending.poll(); write != null; write = pending.poll()) {
      write.done().completeExceptionally(new IllegalStateException("the asynchronous queue is shut down"));
    }
  }

  private void commit(List<Write<?>> batch) {
    List<Object> results;
    try {
      results = store.write(tx -> {
        var out = new ArrayList<Object>(batch.size());
        batch.forEach(w -> out.add(w.work().apply(tx)));
        return out;
      });
    } catch (RuntimeException e) {
      if (batch.size() == 1) {
        batch.getFirst().done().completeExceptionally(e);
        return;
      }
      log.debug("a batch of {} queue writes failed ({}); running them one by one", batch.size(), e.toString());
      batch.forEach(this::commitAlone);
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      complete(batch.get(i), results.get(i));
    }
  }

  private <T> void commitAlone(Write<T> write) {
    try {
      write.done().complete(store.write(write.work()));
    } catch (RuntimeException e) {
      write.done().completeExceptionally(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> void complete(Write<T> write, Object result) {
    write.done().complete((T) result);
  }

  /** Commits what is queued already, then stops; later writes fail. */
  @Override
  public void close() {
    closed = true;
    pending.add(END);
    try {
      writer.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
