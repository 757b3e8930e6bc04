package dev.kiln.runtime.java;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A minimal HTTP/1.1 client for the Lambda Runtime API over one keep-alive socket.
 *
 * <p>Written on a plain {@link Socket} rather than {@code java.net.http.HttpClient} or {@code HttpURLConnection}:
 * those load several hundred classes (and HttpClient starts a selector thread) before the first request, which
 * costs tens of milliseconds of cold start. The Runtime API is a local, trusted peer speaking simple HTTP/1.1.
 */
final class RuntimeApiClient implements Closeable {
  static final String ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type";

  private final String host;
  private final int port;
  private final String prefix;
  private final String hostHeader;
  private Socket socket;
  private InputStream in;
  private OutputStream out;

  /** @param address {@code host:port}, optionally followed by a path prefix ({@code host:port/prefix}) */
  RuntimeApiClient(String address) {
    int slash = address.indexOf('/');
    String hostPort = slash < 0 ? address : address.substring(0, slash);
    String path = slash < 0 ? "" : address.substring(slash).replaceAll("/+$", "");
    int colon = hostPort.lastIndexOf(':');
    this.host = colon < 0 ? hostPort : hostPort.substring(0, colon);
    this.port = colon < 0 ? 80 : Integer.parseInt(hostPort.substring(colon + 1));
    this.prefix = path;
    this.hostHeader = hostPort;
  }

  /** Blocks until the platform hands out the next invocation. */
  Invocation next() throws IOException {
    Response response = exchange("GET", "/2018-06-01/runtime/invocation/next", null, null, 0, 0);
    if (response.status != 200) {
      throw new IOException("Runtime API /invocation/next answered HTTP " + response.status + ": "
          + new String(response.body, StandardCharsets.UTF_8));
    }
    Map<String, String> h = response.headers;
    String deadline = h.get("lambda-runtime-deadline-ms");
    return new Invocation(
        h.get("lambda-runtime-aws-request-id"),
        deadline == null || deadline.isEmpty() ? 0L : Long.parseLong(deadline.trim()),
        h.get("lambda-runtime-invoked-function-arn"),
        h.get("lambda-runtime-trace-id"),
        h.get("lambda-runtime-client-context"),
        h.get("lambda-runtime-cognito-identity"),
        h.get("lambda-runtime-aws-tenant-id"),
        h.get("content-type"),
        response.body);
  }

  int postResponse(String requestId, byte[] body, int length) throws IOException {
    return exchange("POST", "/2018-06-01/runtime/invocation/" + requestId + "/response",
        new String[] {"Content-Type", "application/json"}, body, 0, length).status;
  }

  int postError(String requestId, String errorType, byte[] json) throws IOException {
    return exchange("POST", "/2018-06-01/runtime/invocation/" + requestId + "/error",
        new String[] {"Content-Type", "application/json", ERROR_TYPE_HEADER, errorType}, json, 0, json.length)
        .status;
  }

  int postInitError(String errorType, byte[] json) throws IOException {
    return exchange("POST", "/2018-06-01/runtime/init/error",
        new String[] {"Content-Type", "application/json", ERROR_TYPE_HEADER, errorType}, json, 0, json.length)
        .status;
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    socket = null;
    in = null;
    out = null;
  }

  private void connect() throws IOException {
    close();
    Socket s = new Socket();
    s.setTcpNoDelay(true);
    s.connect(new InetSocketAddress(host, port));
    socket = s;
    in = new BufferedInputStream(s.getInputStream(), 65536);
    out = s.getOutputStream();
  }

  private Response exchange(String method, String path, String[] headers, byte[] body, int off, int len)
      throws IOException {
    StringBuilder head = new StringBuilder(160);
    head.append(method).append(' ').append(prefix).append(path).append(" HTTP/1.1\r\nHost: ").append(hostHeader)
        .append("\r\n");
    if (headers != null) {
      for (int i = 0; i < headers.length; i += 2) {
        head.append(headers[i]).append(": ").append(headerValue(headers[i + 1])).append("\r\n");
      }
    }
    if (body != null) {
      head.append("Content-Length: ").append(len).append("\r\n");
    }
    head.append("\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] request;
    int requestLength;
    if (body != null && len <= 16384) { // one write, one TCP segment for the common small request
      request = new byte[headBytes.length + len];
      System.arraycopy(headBytes, 0, request, 0, headBytes.length);
      System.arraycopy(body, off, request, headBytes.length, len);
      requestLength = request.length;
    } else {
      request = headBytes;
      requestLength = headBytes.length;
    }
    for (int attempt = 0; ; attempt++) {
      boolean fresh = socket == null;
      if (fresh) {
        connect();
      }
      try {
        out.write(request, 0, requestLength);
        if (request == headBytes && body != null) {
          out.write(body, off, len);
        }
        out.flush();
        return readResponse();
      } catch (IOException e) {
        close();
        // A kept-alive connection the server already closed fails on first use: retry once on a new one.
        if (fresh || attempt > 0) {
          throw e;
        }
      }
    }
  }

  private static String headerValue(String value) {
    StringBuilder b = null;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        if (b == null) {
          b = new StringBuilder(value.substring(0, i));
        }
        b.append('?');
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? value : b.toString();
  }

  private Response readResponse() throws IOException {
    String statusLine = readLine();
    if (statusLine == null) {
      throw new IOException("Runtime API closed the connection");
    }
    int sp1 = statusLine.indexOf(' ');
    int sp2 = statusLine.indexOf(' ', sp1 + 1);
    int status = Integer.parseInt(statusLine.substring(sp1 + 1, sp2 < 0 ? statusLine.length() : sp2));
    Map<String, String> headers = new HashMap<>();
    for (String line; (line = readLine()) != null && !line.isEmpty(); ) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
      }
    }
    byte[] body;
    String transferEncoding = headers.get("transfer-encoding");
    if (transferEncoding != null && transferEncoding.toLowerCase(Locale.ROOT).contains("chunked")) {
      ByteArrayOutputStream chunks = new ByteArrayOutputStream();
      for (; ; ) {
        String sizeLine = readLine();
        if (sizeLine == null) {
          throw new IOException("Runtime API closed the connection inside a chunked body");
        }
        int semicolon = sizeLine.indexOf(';');
        int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon)).trim(), 16);
        if (size == 0) {
          for (String trailer; (trailer = readLine()) != null && !trailer.isEmpty(); ) {
            // trailers of a response carry nothing the runtime needs
          }
          break;
        }
        chunks.write(in.readNBytes(size));
        readLine();
      }
      body = chunks.toByteArray();
    } else {
      String contentLength = headers.get("content-length");
      int length = contentLength == null ? 0 : Integer.parseInt(contentLength);
      body = in.readNBytes(length);
      if (body.length != length) {
        throw new IOException("Runtime API closed the connection inside a response body");
      }
    }
    if ("close".equalsIgnoreCase(headers.get("connection"))) {
      close();
    }
    return new Response(status, headers, body);
  }

  private String readLine() throws IOException {
    StringBuilder line = new StringBuilder(64);
    for (int c; (c = in.read()) != -1; ) {
      if (c == '\n') {
        int n = line.length();
        if (n > 0 && line.charAt(n - 1) == '\r') {
          line.setLength(n - 1);
        }
        return line.toString();
      }
      line.append((char) c);
    }
    return line.isEmpty() ? null : line.toString();
  }

  private record Response(int status, Map<String, String> headers, byte[] body) {}
}
