package dev.kiln.runtimes.fn;

/** Implements no handler interface. */
public class NotAHandler {
  public String hello() {
    return "hello";
  }
}
