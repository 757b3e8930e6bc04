package dev.kiln.runtimes.fn;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

/** Throws for events asking it to. */
public class Failing implements RequestHandler<Map<String, Object>, String> {
  @Override
  public String handleRequest(Map<String, Object> event, Context context) {
    if (Boolean.TRUE.equals(event.get("fail"))) {
      validate(event);
    }
    return "fine";
  }

  private static void validate(Map<String, Object> event) {
    throw new IllegalStateException("invalid event " + event.get("id"));
  }
}
