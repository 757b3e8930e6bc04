package dev.kiln.core;

/** Lambda's {@code LastUpdateStatus}: a code or configuration update is InProgress until applied. */
public enum LastUpdateStatus {
  InProgress,
  Successful,
  Failed
}
