package dev.kiln.sources;

import dev.kiln.control.EventSourceMappings;
import dev.kiln.core.EventSourceMapping;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each mapping's LastProcessingResult. Batches finish often, so the store is written only
 * when the result changes (OK after a problem, a problem after OK), and a problem is logged once.
 */
public final class ProcessingResults {
  private static final Logger log = LoggerFactory.getLogger(ProcessingResults.class);
  public static final String OK = "OK";

  private final EventSourceMappings mappings;
  private final Map<String, String> last = new ConcurrentHashMap<>();

  public ProcessingResults(EventSourceMappings mappings) {
    this.mappings = mappings;
  }

  public void ok(EventSourceMapping mapping) {
    record(mapping, OK);
  }

  /** A problem, worded for the user ("Function call failed", "Connection error: ..."). */
  public void problem(EventSourceMapping mapping, String what) {
    record(mapping, "PROBLEM: " + what);
  }

  private void record(EventSourceMapping mapping, String result) {
    var previous = last.put(mapping.uuid(), result);
    if (result.equals(previous)) {
      return;
    }
    if (!result.equals(OK)) {
      log.warn("mapping={} function={} {}", mapping.uuid(), mapping.functionName(), result);
    }
    try {
      mappings.recordResult(mapping, result);
    } catch (RuntimeException e) {
      // The next change of result writes again; polling goes on meanwhile.
      last.remove(mapping.uuid(), result);
      log.warn("mapping={} cannot record its processing result: {}", mapping.uuid(), e.toString());
    }
  }

  /** A mapping that is gone leaves nothing behind. */
  void forget(String uuid) {
    last.remove(uuid);
  }
}
