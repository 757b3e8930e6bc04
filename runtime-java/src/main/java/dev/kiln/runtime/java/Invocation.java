package dev.kiln.runtime.java;

/** One invocation as handed out by {@code GET /runtime/invocation/next}. */
record Invocation(
    String requestId,
    long deadlineMs,
    String invokedFunctionArn,
    String traceId,
    String clientContext,
    String cognitoIdentity,
    String tenantId,
    String contentType,
    byte[] event) {}
