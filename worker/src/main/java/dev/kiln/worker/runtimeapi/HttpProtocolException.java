package dev.kiln.worker.runtimeapi;

/** A peer sent something that is not HTTP/1.1 as the Runtime API speaks it; the connection is dropped. */
final class HttpProtocolException extends RuntimeException {
  HttpProtocolException(String message) {
    super(message, null, false, false);
  }
}
