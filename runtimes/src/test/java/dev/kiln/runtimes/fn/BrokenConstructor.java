package dev.kiln.runtimes.fn;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

/** Fails during initialization, in its constructor. */
public class BrokenConstructor implements RequestHandler<Object, Object> {
  public BrokenConstructor() {
    throw new IllegalArgumentException("missing configuration TABLE_NAME");
  }

  @Override
  public Object handleRequest(Object input, Context context) {
    return input;
  }
}
