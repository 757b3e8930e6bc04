package dev.kiln.runtime.java;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Lambda's error body for Java: {@code {"errorMessage","errorType","stackTrace":[...]}}. */
final class ErrorReport {
  private static final String RUNTIME_PACKAGE = ErrorReport.class.getPackageName() + ".";

  private ErrorReport() {}

  static byte[] json(String message, String type, String[] stackTrace) {
    StringBuilder b = new StringBuilder(256);
    b.append("{\"errorMessage\":");
    Json.quote(message == null ? "" : message, b);
    b.append(",\"errorType\":");
    Json.quote(type == null ? "" : type, b);
    if (stackTrace != null) {
      b.append(",\"stackTrace\":[");
      for (int i = 0; i < stackTrace.length; i++) {
        if (i > 0) {
          b.append(',');
        }
        Json.quote(stackTrace[i], b);
      }
      b.append(']');
    }
    return b.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  static String messageOf(Throwable t) {
    String message = t.getLocalizedMessage();
    return message == null ? t.getClass().getName() : message;
  }

  /** The throwable's frames up to the first one of this runtime, without the reflection frames before it. */
  static String[] stackOf(Throwable t) {
    StackTraceElement[] frames = filter(t.getStackTrace());
    String[] result = new String[frames.length];
    for (int i = 0; i < frames.length; i++) {
      result[i] = frames[i].toString();
    }
    return result;
  }

  static StackTraceElement[] filter(StackTraceElement[] frames) {
    int end = frames.length;
    for (int i = 0; i < frames.length; i++) {
      if (frames[i].getClassName().startsWith(RUNTIME_PACKAGE)) {
        end = i;
        break;
      }
    }
    while (end > 0 && isReflection(frames[end - 1].getClassName())) {
      end--;
    }
    if (end == frames.length) {
      return frames;
    }
    StackTraceElement[] kept = new StackTraceElement[end];
    System.arraycopy(frames, 0, kept, 0, end);
    return kept;
  }

  private static boolean isReflection(String className) {
    return className.startsWith("jdk.internal.reflect.") || className.startsWith("java.lang.reflect.")
        || className.startsWith("java.lang.invoke.");
  }

  /** Strips runtime frames from the throwable and its causes, for logging. */
  static void filterInPlace(Throwable t) {
    List<Throwable> seen = new ArrayList<>();
    for (Throwable x = t; x != null && !seen.contains(x); x = x.getCause()) {
      seen.add(x);
      x.setStackTrace(filter(x.getStackTrace()));
    }
  }

  /** What Lambda's Java runtime logs for a failed invocation: "message: type", then the stack trace. */
  static String logLine(String message, String type, Throwable t) {
    StringWriter trace = new StringWriter();
    if (t != null) {
      filterInPlace(t);
      t.printStackTrace(new PrintWriter(trace));
    }
    return message + ": " + (type == null ? "" : type) + "\n" + trace + "\n";
  }
}
