package dev.kiln.runtimes.fn;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** RequestStreamHandler: wraps the raw event bytes in a JSON object. */
public class Echo implements RequestStreamHandler {
  @Override
  public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
    byte[] event = input.readAllBytes();
    output.write("{\"raw\":".getBytes(StandardCharsets.UTF_8));
    output.write(event);
    output.write((",\"id\":\"" + context.getAwsRequestId() + "\"}").getBytes(StandardCharsets.UTF_8));
  }
}
