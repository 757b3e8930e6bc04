package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;

/**
 * One invocation as the worker receives it: the exact version to run (aliases already resolved),
 * the ARN the caller named, and the event.
 *
 * @param clientContext decoded client-context JSON, or null
 * @param tailLogs whether the caller wants the last 4 KB of log (X-Amz-Log-Type: Tail)
 * @param stream where streamed response chunks go as they arrive; null to buffer the whole response
 * @param tenantId the caller's X-Amz-Tenant-Id, or null; only a per-tenant function uses it
 */
public record InvocationRequest(
    String requestId,
    FunctionVersion version,
    String invokedFunctionArn,
    byte[] payload,
    String clientContext,
    boolean tailLogs,
    ResponseStream stream,
    String tenantId) {

  /** A request without a tenant. */
  public InvocationRequest(String requestId, FunctionVersion version, String invokedFunctionArn, byte[] payload,
      String clientContext, boolean tailLogs, ResponseStream stream) {
    this(requestId, version, invokedFunctionArn, payload, clientContext, tailLogs, stream, null);
  }
}
