package dev.kiln.worker.runtimeapi;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The request line and headers of one HTTP/1.1 request; header names are lower-case. */
record HttpRequestHead(String method, String path, Map<String, List<String>> headers) {
  String header(String name) {
    var values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? null : values.getFirst();
  }

  boolean chunked() {
    var te = header("transfer-encoding");
    return te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
  }

  long contentLength() {
    var cl = header("content-length");
    if (cl == null) {
      return 0;
    }
    try {
      return Long.parseLong(cl.trim());
    } catch (NumberFormatException e) {
      throw new HttpProtocolException("bad Content-Length: " + cl);
    }
  }

  boolean keepAlive() {
    var connection = header("connection");
    return connection == null || !connection.equalsIgnoreCase("close");
  }
}
