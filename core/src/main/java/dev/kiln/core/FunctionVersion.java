package dev.kiln.core;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One version of a function: {@code $LATEST} (mutable) or a published number (immutable). This is
 * what GetFunctionConfiguration describes and what an execution environment is built from.
 *
 * @param deadLetterTargetArn the queue that gets events whose asynchronous invocation was discarded
 *     (DeadLetterConfig.TargetArn), or null
 */
public record FunctionVersion(
    String account,
    String functionName,
    String version,
    String runtime,
    String handler,
    String role,
    String description,
    int memorySize,
    int timeout,
    int ephemeralStorageSize,
    Map<String, String> environment,
    List<String> architectures,
    CodeRef code,
    Instant lastModified,
    String revisionId,
    FunctionState state,
    LastUpdateStatus lastUpdateStatus,
    String deadLetterTargetArn) {

  public static final String LATEST = "$LATEST";

  public FunctionVersion {
    environment = environment == null ? Map.of() : Map.copyOf(environment);
    architectures = architectures == null || architectures.isEmpty() ? List.of("x86_64") : List.copyOf(architectures);
    description = description == null ? "" : description;
    deadLetterTargetArn = deadLetterTargetArn == null || deadLetterTargetArn.isEmpty() ? null : deadLetterTargetArn;
  }

  /** A version without a dead-letter queue. */
  public FunctionVersion(String account, String functionName, String version, String runtime, String handler,
      String role, String description, int memorySize, int timeout, int ephemeralStorageSize,
      Map<String, String> environment, List<String> architectures, CodeRef code, Instant lastModified,
      String revisionId, FunctionState state, LastUpdateStatus lastUpdateStatus) {
    this(account, functionName, version, runtime, handler, role, description, memorySize, timeout,
        ephemeralStorageSize, environment, architectures, code, lastModified, revisionId, state, lastUpdateStatus, null);
  }

  public boolean isLatest() {
    return LATEST.equals(version);
  }

  public FunctionVersion withVersion(String newVersion, Instant modified, String newRevisionId) {
    return new FunctionVersion(account, functionName, newVersion, runtime, handler, role, description, memorySize,
        timeout, ephemeralStorageSize, environment, architectures, code, modified, newRevisionId, state,
        lastUpdateStatus, deadLetterTargetArn);
  }

  public FunctionVersion withStatus(FunctionState newState, LastUpdateStatus newUpdateStatus, String newRevisionId) {
    return new FunctionVersion(account, functionName, version, runtime, handler, role, description, memorySize,
        timeout, ephemeralStorageSize, environment, architectures, code, lastModified, newRevisionId, newState,
        newUpdateStatus, deadLetterTargetArn);
  }
}
