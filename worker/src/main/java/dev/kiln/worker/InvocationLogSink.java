package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;
import java.util.List;

/** Where each invocation's log lines (START … REPORT) go once it ends. */
@FunctionalInterface
public interface InvocationLogSink {
  void write(FunctionVersion version, String requestId, List<String> lines);
}
