package dev.kiln.runtime.java;

/** The user's handler, adapted to one shape: event bytes in, response bytes out. */
interface FunctionHandler {
  void handle(byte[] event, InvocationContext context, ResponseBuffer out) throws Throwable;
}
