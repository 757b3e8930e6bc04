package dev.kiln.api;

import dev.kiln.worker.InvocationResult;
import dev.kiln.worker.ResponseStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A RESPONSE_STREAM function URL's answer, written while the function streams. A stream of the
 * HTTP integration type (what awslambda.HttpResponseStream.from produces) starts with a JSON
 * prelude giving status, headers and cookies, ended by eight NUL bytes; the rest is the body. Any
 * other stream is the body of a 200 response of its declared type. Once the head is sent, a
 * failure can only cut the body short; before that the client gets Lambda's 502.
 */
final class FunctionUrlStream implements ResponseStream {
  private static final Logger log = LoggerFactory.getLogger(FunctionUrlStream.class);
  static final String HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";
  private static final int DELIMITER_LENGTH = 8;
  /** A prelude is a small JSON document; a stream that never ends one is a broken function. */
  private static final int MAX_PRELUDE_BYTES = 64 * 1024;

  /** Sends the response head and opens the body. */
  @FunctionalInterface
  interface Head {
    OutputStream open(FunctionUrlResponse head) throws IOException;
  }

  /** What to answer when the function failed before anything was sent. */
  @FunctionalInterface
  interface Failure {
    void send();
  }

  private final Head head;
  private final Failure failure;
  private String declaredType;
  private boolean integration;
  private ByteArrayOutputStream prelude;
  private boolean refused;
  private boolean clientGone;
  private OutputStream out;

  FunctionUrlStream(Head head, Failure failure) {
    this.head = head;
    this.failure = failure;
  }

  @Override
  public void contentType(String contentType) {
    declaredType = contentType;
    integration = contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith(HTTP_INTEGRATION);
    if (integration) {
      prelude = new ByteArrayOutputStream();
    }
  }

  @Override
  public void chunk(byte[] data) {
    if (clientGone || refused) {
      return;
    }
    try {
      if (out == null && integration) {
        prelude.write(data);
        var bytes = prelude.toByteArray();
        int end = delimiter(bytes, Math.max(0, bytes.length - data.length - DELIMITER_LENGTH + 1));
        if (end < 0) {
          if (bytes.length > MAX_PRELUDE_BYTES) {
            refuse("its prelude has no end within " + MAX_PRELUDE_BYTES + " bytes");
          }
          return;
        }
        FunctionUrlResponse response;
        try {
          response = FunctionUrlResponse.prelude(Arrays.copyOf(bytes, end));
        } catch (FunctionUrlResponse.Malformed e) {
          refuse(e.getMessage());
          return;
        }
        out = head.open(response);
        out.write(bytes, end + DELIMITER_LENGTH, bytes.length - end - DELIMITER_LENGTH);
      } else {
        if (out == null) {
          FunctionUrlResponse response;
          try {
            response = FunctionUrlResponse.plain(declaredType, new byte[0]);
          } catch (FunctionUrlResponse.Malformed e) {
            refuse(e.getMessage());
            return;
          }
          out = head.open(response);
        }
        out.write(data);
      }
      out.flush();
    } catch (IOException e) {
      // The client hung up; the function still runs to its end, as on Lambda.
      clientGone = true;
    }
  }

  /**
   * The function's response cannot be sent: the client gets Lambda's 502 now, not when the function
   * ends, and the rest of the stream is dropped.
   */
  private void refuse(String why) {
    refused = true;
    log.info("streamed function URL response cannot be sent: {}", why);
    failure.send();
  }

  /** Completes the answer once the invocation ended; {@code result} carries a buffered function's payload. */
  void finish(InvocationResult result) throws IOException {
    if (out != null) {
      if (!clientGone) {
        out.close();
      }
      return;
    }
    if (clientGone || refused) {
      return; // a refused stream had its 502 when it was found out
    }
    if (result.failed() || (integration && prelude.size() > 0)) {
      failure.send();
      return;
    }
    // Nothing was streamed: a handler that returns its result (not streamified) answers whole.
    var payload = result.payload();
    FunctionUrlResponse response;
    try {
      response = FunctionUrlResponse.plain(payload.length > 0 ? FunctionUrlResponse.JSON : declaredType, payload);
    } catch (FunctionUrlResponse.Malformed e) {
      refuse(e.getMessage());
      return;
    }
    try (var body = head.open(response)) {
      body.write(response.body());
    }
  }

  /** Where the eight NUL bytes after the prelude start, searching from {@code from}; -1 if not there yet. */
  private static int delimiter(byte[] bytes, int from) {
    int run = 0;
    for (int i = from; i < bytes.length; i++) {
      run = bytes[i] == 0 ? run + 1 : 0;
      if (run == DELIMITER_LENGTH) {
        return i - DELIMITER_LENGTH + 1;
      }
    }
    return -1;
  }
}
