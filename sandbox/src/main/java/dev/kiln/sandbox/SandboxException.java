package dev.kiln.sandbox;

/** A sandbox could not be made, launched or controlled. */
public final class SandboxException extends RuntimeException {
  public SandboxException(String message) {
    super(message);
  }

  public SandboxException(String message, Throwable cause) {
    super(message, cause);
  }
}
