package dev.kiln.store;

/** An insert met a row with the same key. */
public final class DuplicateKeyException extends RuntimeException {
  public DuplicateKeyException(String message, Throwable cause) {
    super(message, cause);
  }
}
