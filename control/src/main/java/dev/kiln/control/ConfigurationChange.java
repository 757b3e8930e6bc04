package dev.kiln.control;

import java.util.List;
import java.util.Map;

/**
 * The configuration fields a client may set on CreateFunction or UpdateFunctionConfiguration. A
 * null field is one the client did not send: on create it takes Lambda's default, on update it
 * keeps the current value. An empty {@code deadLetterTargetArn} removes the dead-letter queue.
 */
public record ConfigurationChange(
    String runtime,
    String handler,
    String role,
    String description,
    Integer memorySize,
    Integer timeout,
    Integer ephemeralStorageSize,
    Map<String, String> environment,
    List<String> architectures,
    String deadLetterTargetArn) {

  public static final ConfigurationChange NONE =
      new ConfigurationChange(null, null, null, null, null, null, null, null, null, null);

  /** A change that leaves the dead-letter queue as it is. */
  public ConfigurationChange(String runtime, String handler, String role, String description, Integer memorySize,
      Integer timeout, Integer ephemeralStorageSize, Map<String, String> environment, List<String> architectures) {
    this(runtime, handler, role, description, memorySize, timeout, ephemeralStorageSize, environment, architectures,
        null);
  }
}
