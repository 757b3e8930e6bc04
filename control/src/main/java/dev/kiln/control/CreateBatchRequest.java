package dev.kiln.control;

/**
 * What a client asks for when it creates a batch job; see {@link Batches#create}.
 *
 * @param idempotencyKey null for a job that is never found again by key
 * @param concurrency null for {@link Batches#DEFAULT_CONCURRENCY}
 * @param maxAttempts null for {@link Batches#DEFAULT_MAX_ATTEMPTS}
 * @param source where the items come from, for people; may be null
 */
public record CreateBatchRequest(
    String functionName, String qualifier, String idempotencyKey, Long totalItems, Integer concurrency,
    Integer maxAttempts, String source) {}
