package dev.kiln.runtime.java;

/**
 * A failure to load the handler, reported to {@code /runtime/init/error}.
 *
 * @param errorType the {@code errorType} of the error body (as Lambda's Java runtime reports it: the
 *     exception's class, or a {@code Runtime.*} type where Lambda gives none)
 * @param headerType the {@code Lambda-Runtime-Function-Error-Type} header
 */
final class InitError extends Exception {
  final String errorType;
  final String headerType;
  final String[] stackTrace;

  InitError(String errorType, String message, String[] stackTrace) {
    super(message, null, false, false);
    this.errorType = errorType;
    this.headerType = errorType.startsWith("Runtime.") ? errorType : "Runtime.BadFunctionCode";
    this.stackTrace = stackTrace;
  }

  static InitError of(String message, Throwable cause) {
    return new InitError(cause.getClass().getName(), message, ErrorReport.stackOf(cause));
  }
}
