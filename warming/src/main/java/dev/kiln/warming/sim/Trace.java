package dev.kiln.warming.sim;

import java.util.List;

/** Functions and their invocations over {@code lengthMillis} of simulated time. */
public record Trace(List<TraceFunction> functions, long lengthMillis) {
  public Trace {
    functions = List.copyOf(functions);
  }
}
