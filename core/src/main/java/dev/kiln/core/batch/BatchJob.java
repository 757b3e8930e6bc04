package dev.kiln.core.batch;

import java.time.Instant;

/**
 * A batch job: every item of a data set becomes one synchronous invocation of a function.
 *
 * @param qualifier the version or alias invoked, null for $LATEST
 * @param idempotencyKey chosen by the client (kiln batch: the SHA-256 of function and input), so
 *     creating the same job again finds this one instead of starting over
 * @param concurrency the invocations in flight the user asked for, null for the default
 * @param maxAttempts how often an item is tried when the function fails before it counts as failed
 * @param source what the items came from, for people (a file or folder name); may be null
 * @param startedAt when it first ran, null before
 * @param finishedAt when the last item was settled, null before
 */
public record BatchJob(
    String account,
    String jobId,
    String functionName,
    String qualifier,
    String idempotencyKey,
    BatchJobState state,
    Integer concurrency,
    int maxAttempts,
    long totalItems,
    String source,
    Instant createdAt,
    Instant startedAt,
    Instant finishedAt) {

  public BatchJob withState(BatchJobState newState) {
    return new BatchJob(account, jobId, functionName, qualifier, idempotencyKey, newState, concurrency, maxAttempts,
        totalItems, source, createdAt, startedAt, finishedAt);
  }

  /** Running from {@code now} on; the first start is remembered, a resume keeps it. */
  public BatchJob started(Integer newConcurrency, Instant now) {
    return new BatchJob(account, jobId, functionName, qualifier, idempotencyKey, BatchJobState.Running,
        newConcurrency, maxAttempts, totalItems, source, createdAt, startedAt == null ? now : startedAt, null);
  }

  public BatchJob completed(Instant now) {
    return new BatchJob(account, jobId, functionName, qualifier, idempotencyKey, BatchJobState.Completed, concurrency,
        maxAttempts, totalItems, source, createdAt, startedAt, now);
  }
}
