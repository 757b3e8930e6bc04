package dev.kiln.runtimes;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A second, socket-level test Runtime API for what {@code com.sun.net.httpserver} cannot read: request trailers
 * (a streamed response that fails midway reports its error in {@code Lambda-Runtime-Function-Error-*} trailers).
 */
final class RawRuntimeApi implements AutoCloseable {
  /** A posted response: headers, the de-chunked body and the trailers. */
  record Streamed(String path, Map<String, String> headers, byte[] body, Map<String, String> trailers) {}

  private final ServerSocket server;
  private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
  final CompletableFuture<Streamed> posted = new CompletableFuture<>();

  RawRuntimeApi() throws IOException {
    server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    Thread.ofVirtual().start(this::acceptLoop);
  }

  String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  void invoke(String event) {
    events.add(event);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        Thread.ofVirtual().start(() -> serve(s));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = new BufferedInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      int id = 0;
      for (String requestLine; (requestLine = line(in)) != null; ) {
        Map<String, String> headers = headers(in);
        if (requestLine.startsWith("GET ")) {
          byte[] event = events.take().getBytes(StandardCharsets.UTF_8);
          out.write(("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: raw-" + (++id)
              + "\r\nLambda-Runtime-Deadline-Ms: " + (System.currentTimeMillis() + 30_000)
              + "\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:f"
              + "\r\nContent-Length: " + event.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
          out.write(event);
          out.flush();
          continue;
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        Map<String, String> trailers = new LinkedHashMap<>();
        if (headers.getOrDefault("transfer-encoding", "").contains("chunked")) {
          for (int size; (size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) > 0; ) {
            body.write(in.readNBytes(size));
            line(in);
          }
          trailers.putAll(headers(in));
        } else {
          body.write(in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0"))));
        }
        posted.complete(new Streamed(requestLine.split(" ")[1], headers, body.toByteArray(), trailers));
        out.write("HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      // connection gone
    }
  }

  private static Map<String, String> headers(InputStream in) throws IOException {
    Map<String, String> headers = new LinkedHashMap<>();
    for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
      int colon = h.indexOf(':');
      headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
    }
    return headers;
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c; (c = in.read()) != -1; ) {
      if (c == '\n') {
        return b.toString().replaceAll("\r$", "");
      }
      b.append((char) c);
    }
    return b.isEmpty() ? null : b.toString();
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
