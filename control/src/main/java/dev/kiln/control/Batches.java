package dev.kiln.control;

import static dev.kiln.core.KilnException.conflict;
import static dev.kiln.core.KilnException.invalid;
import static dev.kiln.core.KilnException.notFound;

import dev.kiln.core.FunctionRef;
import dev.kiln.core.batch.BatchFailure;
import dev.kiln.core.batch.BatchItem;
import dev.kiln.core.batch.BatchJob;
import dev.kiln.core.batch.BatchJobState;
import dev.kiln.store.DuplicateKeyException;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.StoreTransaction;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.json.JsonMapper;

/**
 * Batch jobs over a data set as the API sees them: create one (or find it again by its
 * idempotency key), upload its items, start, pause, look at and delete it. Running the items is
 * the batch module's work; this class only changes what the store says, one transaction each.
 */
public final class Batches {
  /** Invocations in flight when the user asks for no particular number (the function's reservation still caps it). */
  public static final int DEFAULT_CONCURRENCY = 8;
  public static final int MAX_CONCURRENCY = 1000;
  public static final int DEFAULT_MAX_ATTEMPTS = 2;
  public static final int MAX_ATTEMPTS = 10;
  public static final long MAX_ITEMS = 10_000_000;
  public static final int MAX_ITEMS_PER_UPLOAD = 1000;
  /** Each item is one synchronous Invoke, so it is bound by Invoke's request payload quota. */
  public static final int MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
  private static final int DEFAULT_PAGE = 50;
  private static final int MAX_PAGE = 1000;
  private static final int MAX_SOURCE_LENGTH = 1024;
  private static final Pattern IDEMPOTENCY_KEY = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final MetadataStore store;
  private final ControlPlane control;
  private final Clock clock;

  public Batches(MetadataStore store, ControlPlane control, Clock clock) {
    this.store = store;
    this.control = control;
    this.clock = clock;
  }

  /** A job and whether this call created it (false: the idempotency key found an existing one). */
  public record Created(BatchStatus status, boolean created) {}

  /**
   * Creates a job in state Created, or returns the account's job with the same idempotency key
   * when it was made for the same function, qualifier and number of items.
   */
  public Created create(String account, CreateBatchRequest request) {
    var ref = FunctionRef.parse(request.functionName(), request.qualifier());
    // Fails with ResourceNotFoundException when the function, version or alias does not exist.
    control.getConfiguration(account, ref);
    long total = requireTotal(request.totalItems());
    checkConcurrency(request.concurrency());
    int maxAttempts = request.maxAttempts() == null ? DEFAULT_MAX_ATTEMPTS : request.maxAttempts();
    if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) {
      throw invalid(validation(maxAttempts, "maxAttempts", "have value between 1 and " + MAX_ATTEMPTS));
    }
    var key = request.idempotencyKey() == null ? UUID.randomUUID().toString() : request.idempotencyKey();
    if (!IDEMPOTENCY_KEY.matcher(key).matches()) {
      throw invalid(validation(key, "idempotencyKey", "satisfy regular expression pattern: [A-Za-z0-9._:-]{1,128}"));
    }
    if (request.source() != null && request.source().length() > MAX_SOURCE_LENGTH) {
      throw invalid("Source must be at most " + MAX_SOURCE_LENGTH + " characters.");
    }
    var job = new BatchJob(account, UUID.randomUUID().toString(), ref.name(), ref.qualifier().orElse(null), key,
        BatchJobState.Created, request.concurrency(), maxAttempts, total, request.source(), clock.instant(), null,
        null);
    try {
      return store.write(tx -> insertOrFind(tx, job));
    } catch (DuplicateKeyException e) {
      // Another request with the same key won the race: that job is the one.
      return store.write(tx -> insertOrFind(tx, job));
    }
  }

  private Created insertOrFind(StoreTransaction tx, BatchJob job) {
    var existing = tx.batches().jobByIdempotencyKey(job.account(), job.idempotencyKey());
    if (existing.isPresent()) {
      var found = existing.get();
      if (!found.functionName().equals(job.functionName()) || !Objects.equals(found.qualifier(), job.qualifier())
          || found.totalItems() != job.totalItems()) {
        throw conflict("IdempotencyKey " + job.idempotencyKey() + " belongs to batch job " + found.jobId()
            + " of function " + found.functionName() + (found.qualifier() == null ? "" : ":" + found.qualifier())
            + " with " + found.totalItems() + " items. Use another key for a different job.");
      }
      return new Created(new BatchStatus(found, tx.batches().counts(found.account(), found.jobId())), false);
    }
    if (tx.function(job.account(), job.functionName()).isEmpty()) {
      throw notFound("Function not found: " + control.arn(job.account(), job.functionName(), null));
    }
    tx.batches().insertJob(job);
    return new Created(new BatchStatus(job, tx.batches().counts(job.account(), job.jobId())), true);
  }

  public BatchStatus status(String account, String jobId) {
    return store.read(tx -> {
      var job = find(tx, account, jobId);
      return new BatchStatus(job, tx.batches().counts(account, jobId));
    });
  }

  /** The account's jobs (of one function when {@code functionName} is given), oldest first. */
  public List<BatchStatus> list(String account, String functionName, Integer maxItems) {
    String name = functionName == null ? null : FunctionRef.parse(functionName, null).name();
    int limit = pageSize(maxItems);
    return store.read(tx -> tx.batches().jobs(account, name, limit).stream()
        .map(job -> new BatchStatus(job, tx.batches().counts(account, job.jobId())))
        .toList());
  }

  /**
   * Adds items to a job that has not started. Items already uploaded are kept as they are, so an
   * interrupted upload can be repeated. Returns the job with its new counts.
   */
  public BatchStatus upload(String account, String jobId, List<BatchItem> items) {
    if (items.isEmpty()) {
      throw invalid("Items must hold at least one item.");
    }
    if (items.size() > MAX_ITEMS_PER_UPLOAD) {
      throw invalid("Upload at most " + MAX_ITEMS_PER_UPLOAD + " items per request, not " + items.size() + ".");
    }
    var job = store.read(tx -> find(tx, account, jobId));
    for (var item : items) {
      checkItem(job, item);
    }
    return store.write(tx -> {
      var locked = find(tx, account, jobId);
      if (locked.state() != BatchJobState.Created) {
        throw conflict("Batch job " + jobId + " is " + locked.state() + ": items can only be added before it starts.");
      }
      tx.batches().insertItems(account, jobId, items);
      return new BatchStatus(locked, tx.batches().counts(account, jobId));
    });
  }

  private static void checkItem(BatchJob job, BatchItem item) {
    if (item.index() < 0 || item.index() >= job.totalItems()) {
      throw invalid("Item index " + item.index() + " is out of range: the job has " + job.totalItems()
          + " items, numbered 0 to " + (job.totalItems() - 1) + ".");
    }
    if (item.payload() == null) {
      throw invalid(describe(item) + " has no Payload.");
    }
    if (item.payload().length > MAX_PAYLOAD_BYTES) {
      throw invalid(describe(item) + " is " + item.payload().length + " bytes; an invocation payload may be at most "
          + MAX_PAYLOAD_BYTES + " bytes.");
    }
    var problem = jsonProblem(item.payload());
    if (problem != null) {
      throw invalid(describe(item) + " is not valid JSON (" + problem + "). Every item is an invocation event: "
          + "fix it and upload it again.");
    }
  }

  /** "Item 4 (line 7)" or "Item 2 (path a/b.txt)": what the user can find in the input. */
  private static String describe(BatchItem item) {
    var origin = item.line() != null ? " (line " + item.line() + ")" : item.path() != null ? " (" + item.path() + ")" : "";
    return "Item " + item.index() + origin;
  }

  /** Why {@code payload} is not exactly one JSON value, or null when it is. */
  public static String jsonProblem(byte[] payload) {
    try (JsonParser parser = JSON.createParser(payload)) {
      if (parser.nextToken() == null) {
        return "it is empty";
      }
      parser.skipChildren();
      JsonToken after = parser.nextToken();
      return after == null ? null : "more than one JSON value";
    } catch (JacksonException e) {
      return e.getOriginalMessage();
    }
  }

  /**
   * Running from now on. A job that runs or has completed is returned as it is; a Created or Paused
   * one needs all its items. {@code concurrency}, when given, replaces the one asked for before.
   */
  public BatchJob start(String account, String jobId, Integer concurrency) {
    checkConcurrency(concurrency);
    return store.write(tx -> {
      var job = find(tx, account, jobId);
      if (job.state() == BatchJobState.Running || job.state() == BatchJobState.Completed) {
        return job;
      }
      long uploaded = tx.batches().counts(account, jobId).uploaded();
      if (uploaded < job.totalItems()) {
        throw invalid("Batch job " + jobId + " has " + uploaded + " of its " + job.totalItems()
            + " items. Upload the rest before starting it.");
      }
      var started = job.started(concurrency != null ? concurrency : job.concurrency(), clock.instant());
      tx.batches().updateJob(started);
      return started;
    });
  }

  /** Paused: a running job stops taking new items (those in flight finish); other states stay as they are. */
  public BatchJob pause(String account, String jobId) {
    return store.write(tx -> {
      var job = find(tx, account, jobId);
      if (job.state() != BatchJobState.Running) {
        return job;
      }
      var paused = job.withState(BatchJobState.Paused);
      tx.batches().updateJob(paused);
      return paused;
    });
  }

  /** Deletes the job with its items and their results; returns what it was. */
  public BatchJob delete(String account, String jobId) {
    return store.write(tx -> {
      var job = find(tx, account, jobId);
      tx.batches().deleteJob(account, jobId);
      return job;
    });
  }

  /** Failed items in index order; the marker is the last index of the previous page. */
  public Page<BatchFailure> failures(String account, String jobId, String marker, Integer maxItems) {
    int limit = pageSize(maxItems);
    long after;
    try {
      after = marker == null ? -1 : Long.parseLong(marker);
    } catch (NumberFormatException e) {
      throw invalid("Marker '" + marker + "' is not one this API returned; pass NextMarker of the previous page.");
    }
    return store.read(tx -> {
      find(tx, account, jobId);
      var page = tx.batches().failures(account, jobId, after, limit + 1);
      var items = page.subList(0, Math.min(limit, page.size()));
      String next = page.size() > limit ? Long.toString(items.getLast().index()) : null;
      return new Page<>(List.copyOf(items), next);
    });
  }

  private static BatchJob find(StoreTransaction tx, String account, String jobId) {
    return tx.batches().job(account, jobId).orElseThrow(() -> notFound("Batch job not found: " + jobId
        + ". List the jobs with GET /kiln/v1/batches (kiln batch list)."));
  }

  private static long requireTotal(Long total) {
    if (total == null) {
      throw invalid("TotalItems is required: the number of items the job will have.");
    }
    if (total < 1 || total > MAX_ITEMS) {
      throw invalid(validation(total, "totalItems", "have value between 1 and " + MAX_ITEMS));
    }
    return total;
  }

  private static void checkConcurrency(Integer concurrency) {
    if (concurrency != null && (concurrency < 1 || concurrency > MAX_CONCURRENCY)) {
      throw invalid(validation(concurrency, "concurrency", "have value between 1 and " + MAX_CONCURRENCY));
    }
  }

  private static int pageSize(Integer maxItems) {
    if (maxItems == null) {
      return DEFAULT_PAGE;
    }
    if (maxItems < 1 || maxItems > MAX_PAGE) {
      throw invalid(validation(maxItems, "maxItems", "have value between 1 and " + MAX_PAGE));
    }
    return maxItems;
  }

  private static String validation(Object value, String member, String constraint) {
    return "1 validation error detected: Value '" + value + "' at '" + member + "' failed to satisfy constraint: "
        + "Member must " + constraint;
  }
}
