package dev.kiln.runtime.java;

import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * {@link LambdaLogger} writing to the process's standard output, where the platform collects logs.
 *
 * <p>As in Lambda's text log format, messages are written as given (no prefix, no added newline); messages
 * below {@code AWS_LAMBDA_LOG_LEVEL} (when set) are dropped.
 */
final class RuntimeLogger implements LambdaLogger {
  private final PrintStream out;
  private final int minimumLevel;

  RuntimeLogger(PrintStream out, String logLevel) {
    this.out = out;
    this.minimumLevel = rank(logLevel == null ? null : logLevel.trim().toUpperCase(Locale.ROOT));
  }

  private static int rank(String level) {
    if (level == null) {
      return 0;
    }
    switch (level) {
      case "TRACE":
        return 1;
      case "DEBUG":
        return 2;
      case "INFO":
        return 3;
      case "WARN":
        return 4;
      case "ERROR":
        return 5;
      case "FATAL":
        return 6;
      default:
        return 0;
    }
  }

  @Override
  public void log(String message) {
    write(String.valueOf(message).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void log(byte[] message) {
    write(message);
  }

  @Override
  public void log(String message, LogLevel level) {
    if (enabled(level)) {
      log(message);
    }
  }

  @Override
  public void log(byte[] message, LogLevel level) {
    if (enabled(level)) {
      log(message);
    }
  }

  private boolean enabled(LogLevel level) {
    return level == null || minimumLevel == 0 || rank(level.name()) == 0 || rank(level.name()) >= minimumLevel;
  }

  private void write(byte[] bytes) {
    synchronized (out) {
      out.write(bytes, 0, bytes.length);
      out.flush();
    }
  }
}
