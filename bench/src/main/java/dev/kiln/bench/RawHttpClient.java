package dev.kiln.bench;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The leanest client: a blocking HTTP/1.1 keep-alive socket per calling thread, the request written
 * in one call, the reply parsed in place (Content-Length or chunked). Every request is signed with
 * the SDK's SigV4 signer, so it costs the client what any real Lambda client pays.
 */
final class RawHttpClient implements InvokeClient {
  private final String host;
  private final int port;
  private final Signer signer;
  private final ThreadLocal<Connection> connections = new ThreadLocal<>();
  private final Set<Connection> all = ConcurrentHashMap.newKeySet();

  RawHttpClient(URI endpoint, Signer signer) {
    this.host = endpoint.getHost();
    this.port = endpoint.getPort();
    this.signer = signer;
  }

  @Override
  public String name() {
    return "raw-socket";
  }

  @Override
  public Reply invoke(String function, byte[] payload, boolean tailLog) throws IOException {
    return invoke(function, payload, tailLog, "RequestResponse");
  }

  /** An Invoke of any invocation type (RequestResponse, Event, DryRun). */
  Reply invoke(String function, byte[] payload, boolean tailLog, String invocationType) throws IOException {
    String path = InvokeClient.invokePath(function);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    headers.put("X-Amz-Invocation-Type", invocationType);
    if (tailLog) {
      headers.put("X-Amz-Log-Type", "Tail");
    }
    StringBuilder head = new StringBuilder(512).append("POST ").append(path).append(" HTTP/1.1\r\n");
    for (var h : signer.sign("POST", URI.create("http://" + host + ":" + port + path), headers, payload)) {
      head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
    }
    head.append("Content-Length: ").append(payload.length).append("\r\n\r\n");
    byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] request = new byte[headBytes.length + payload.length];
    System.arraycopy(headBytes, 0, request, 0, headBytes.length);
    System.arraycopy(payload, 0, request, headBytes.length, payload.length);

    Connection connection = connection();
    try {
      return connection.exchange(request);
    } catch (StaleConnection e) {
      // The server closed an idle keep-alive connection before reading this request: send it once more.
      connection.close();
      return connection().exchange(request);
    } catch (IOException | RuntimeException e) {
      connection.close();
      throw e;
    }
  }

  private Connection connection() throws IOException {
    Connection c = connections.get();
    if (c == null || c.closed) {
      c = new Connection(host, port);
      connections.set(c);
      all.add(c);
    }
    return c;
  }

  @Override
  public void close() {
    all.forEach(Connection::close);
    all.clear();
  }

  /** Thrown when a reused connection was closed by the peer before any byte of the reply arrived. */
  private static final class StaleConnection extends IOException {
    StaleConnection() {
      super("connection closed by the server before the reply", null);
    }
  }

  private static final class Connection {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final StringBuilder line = new StringBuilder(128);
    private boolean used;
    volatile boolean closed;

    Connection(String host, int port) throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), 10_000);
      socket.setSoTimeout(120_000);
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      out = socket.getOutputStream();
    }

    Reply exchange(byte[] request) throws IOException {
      boolean reused = used;
      used = true;
      out.write(request);
      out.flush();
      String statusLine = readLine();
      if (statusLine == null) {
        if (reused) {
          throw new StaleConnection();
        }
        throw new EOFException("connection closed before the status line");
      }
      if (!statusLine.startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP reply: " + statusLine);
      }
      int status = Integer.parseInt(statusLine.substring(9, 12));
      long contentLength = -1;
      boolean chunked = false;
      boolean closeAfter = statusLine.startsWith("HTTP/1.0");
      String functionError = null;
      String logResult = null;
      for (String h = readLine(); h != null && !h.isEmpty(); h = readLine()) {
        int colon = h.indexOf(':');
        if (colon <= 0) {
          continue;
        }
        String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = h.substring(colon + 1).trim();
        switch (name) {
          case "content-length" -> contentLength = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
          case "connection" -> closeAfter = value.equalsIgnoreCase("close")
              || (closeAfter && !value.equalsIgnoreCase("keep-alive"));
          case "x-amz-function-error" -> functionError = value;
          case "x-amz-log-result" -> logResult = value;
          default -> { }
        }
      }
      byte[] body;
      if (chunked) {
        body = readChunked();
      } else if (contentLength >= 0) {
        body = in.readNBytes((int) contentLength);
        if (body.length != contentLength) {
          throw new EOFException("reply body cut short");
        }
      } else if (status == 204 || status == 304) {
        body = new byte[0];
      } else {
        body = in.readAllBytes();
        closeAfter = true;
      }
      if (closeAfter) {
        close();
      }
      return new Reply(status, body, functionError, logResult);
    }

    private byte[] readChunked() throws IOException {
      var body = new java.io.ByteArrayOutputStream();
      while (true) {
        String size = readLine();
        if (size == null) {
          throw new EOFException("chunked body cut short");
        }
        int semi = size.indexOf(';');
        int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
        if (n == 0) {
          for (String t = readLine(); t != null && !t.isEmpty(); t = readLine()) {
            // trailers: ignored
          }
          return body.toByteArray();
        }
        byte[] chunk = in.readNBytes(n);
        if (chunk.length != n) {
          throw new EOFException("chunk cut short");
        }
        body.write(chunk);
        readLine();
      }
    }

    /** One line without its CR LF, or null at the end of the stream before any byte. */
    private String readLine() throws IOException {
      line.setLength(0);
      int b;
      while ((b = in.read()) != -1) {
        if (b == '\n') {
          int len = line.length();
          if (len > 0 && line.charAt(len - 1) == '\r') {
            line.setLength(len - 1);
          }
          return line.toString();
        }
        line.append((char) b);
      }
      return line.isEmpty() ? null : line.toString();
    }

    void close() {
      closed = true;
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
