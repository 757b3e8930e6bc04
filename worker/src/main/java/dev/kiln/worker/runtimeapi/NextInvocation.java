package dev.kiln.worker.runtimeapi;

/**
 * What {@code GET /runtime/invocation/next} hands the runtime.
 *
 * @param clientContext JSON text or null
 * @param cognitoIdentity JSON text or null
 */
public record NextInvocation(
    String requestId,
    long deadlineEpochMs,
    String invokedFunctionArn,
    String traceId,
    String clientContext,
    String cognitoIdentity,
    byte[] payload) {}
