package dev.kiln.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Sends one synchronous Invoke ({@code POST /2015-03-31/functions/NAME/invocations}, RequestResponse)
 * to one endpoint. Implementations are thread-safe; each calling thread gets its own connection.
 */
interface InvokeClient extends AutoCloseable {
  /** Short name printed in the tables. */
  String name();

  Reply invoke(String function, byte[] payload, boolean tailLog) throws IOException;

  @Override
  void close();

  /** What the bench looks at in an Invoke reply. */
  record Reply(int status, byte[] body, String functionError, String logResult) {
    boolean ok() {
      return status == 200 && functionError == null;
    }

    String bodyText() {
      return body == null ? "" : new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return "HTTP " + status + (functionError == null ? "" : " X-Amz-Function-Error=" + functionError)
          + " body=" + abbreviate(bodyText());
    }

    private static String abbreviate(String s) {
      return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }
  }

  static String invokePath(String function) {
    return "/2015-03-31/functions/" + function + "/invocations";
  }
}
