package dev.kiln.core;

/**
 * A failure that reaches the client as a Lambda error: the code fixes the status and error type,
 * the message is written for the user.
 */
public final class KilnException extends RuntimeException {
  private final ErrorCode code;

  public KilnException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  public static KilnException notFound(String message) {
    return new KilnException(ErrorCode.ResourceNotFoundException, message);
  }

  public static KilnException invalid(String message) {
    return new KilnException(ErrorCode.InvalidParameterValueException, message);
  }

  public static KilnException conflict(String message) {
    return new KilnException(ErrorCode.ResourceConflictException, message);
  }

  public static KilnException precondition(String message) {
    return new KilnException(ErrorCode.PreconditionFailedException, message);
  }
}
