package dev.kiln.e2e.support;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/** Turns down the chatter of libraries running in the test JVM (brokers, their clients). */
final class QuietLogs {
  private QuietLogs() {}

  static void set(Level level, String... loggers) {
    // While another test class's thread is still initializing SLF4J, it hands out stand-ins that
    // are not Logback's; wait (briefly) for Logback itself.
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext) && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      for (var name : loggers) {
        context.getLogger(name).setLevel(level);
      }
    }
  }
}
