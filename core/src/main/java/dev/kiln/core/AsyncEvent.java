package dev.kiln.core;

import java.time.Instant;

/**
 * An accepted asynchronous invocation waiting in the durable queue until it has been handled.
 *
 * @param qualifier as the caller gave it (null for the unqualified function); the version it names
 *     is resolved when the event runs, as on Lambda
 * @param clientContext decoded client-context JSON, or null
 * @param attempts how many times the function has run it so far (throttles do not count)
 * @param nextAttemptAt when it is due (again)
 */
public record AsyncEvent(
    String requestId,
    String account,
    String functionName,
    String qualifier,
    byte[] payload,
    String clientContext,
    Instant acceptedAt,
    int attempts,
    Instant nextAttemptAt) {}
