package dev.kiln.core;

/** The Lambda error types Kiln returns, each with the HTTP status Lambda uses for it. */
public enum ErrorCode {
  InvalidParameterValueException(400),
  InvalidRequestContentException(400),
  CodeStorageExceededException(400),
  /** A request member outside its model constraints, where Lambda's front end rejects it (function URLs). */
  ValidationException(400),
  AccessDeniedException(403),
  InvalidSignatureException(403),
  UnrecognizedClientException(403),
  MissingAuthenticationTokenException(403),
  ResourceNotFoundException(404),
  ProvisionedConcurrencyConfigNotFoundException(404),
  UnknownOperationException(404),
  ResourceConflictException(409),
  PreconditionFailedException(412),
  RequestTooLargeException(413),
  UnsupportedMediaTypeException(415),
  TooManyRequestsException(429),
  ServiceException(500),
  InvalidRuntimeException(502);

  private final int status;

  ErrorCode(int status) {
    this.status = status;
  }

  public int status() {
    return status;
  }

  /** Lambda marks errors the caller can fix as "User" and its own failures as "Service". */
  public String faultType() {
    return status >= 500 ? "Service" : "User";
  }
}
