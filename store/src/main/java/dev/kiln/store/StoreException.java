package dev.kiln.store;

/** The store could not do what was asked: the database is unreachable, corrupt or misconfigured. */
public final class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
