package dev.kiln.worker.runtimeapi;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the Lambda Runtime API for ONE execution environment on that environment's own Unix
 * socket. The socket is the isolation: it is bind-mounted into exactly one sandbox, so a runtime
 * can only ever fetch or answer its own invocations. One virtual thread accepts and one serves each
 * connection, so a thousand idle environments cost no platform threads. (A Helidon listener per
 * environment was measured at two platform threads and ~7 ms each; this protocol needs four routes.)
 */
public final class RuntimeApiServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RuntimeApiServer.class);
  private static final String PREFIX = "/2018-06-01/runtime/";
  private static final String INVOCATION = PREFIX + "invocation/";
  /** Lambda's limit on a buffered response, in bytes. */
  public static final long MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

  private final Path socket;
  private final RuntimeApiHandler handler;
  private final ServerSocketChannel server;
  private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private RuntimeApiServer(Path socket, RuntimeApiHandler handler, ServerSocketChannel server) {
    this.socket = socket;
    this.handler = handler;
    this.server = server;
  }

  /** Binds {@code socket} (replacing a stale file) and starts serving; sandbox users may connect. */
  public static RuntimeApiServer start(Path socket, RuntimeApiHandler handler) throws IOException {
    Files.deleteIfExists(socket);
    var channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    channel.bind(UnixDomainSocketAddress.of(socket));
    // The runtime runs as an unprivileged user inside the sandbox and must be able to connect.
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
    var api = new RuntimeApiServer(socket, handler, channel);
    Thread.ofVirtual().name("runtime-api-accept").start(api::acceptLoop);
    return api;
  }

  public Path socket() {
    return socket;
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        var connection = server.accept();
        connections.add(connection);
        Thread.ofVirtual().name("runtime-api").start(() -> serve(connection));
      } catch (IOException e) {
        if (!closed) {
          log.debug("runtime api accept on {} failed: {}", socket, e.toString());
        }
        return;
      }
    }
  }

  private void serve(SocketChannel connection) {
    try (connection) {
      InputStream in = new BufferedInputStream(Channels.newInputStream(connection), 64 * 1024);
      OutputStream out = new BufferedOutputStream(Channels.newOutputStream(connection), 16 * 1024);
      while (!closed) {
        var head = HttpWire.readHead(in);
        if (head == null) {
          return;
        }
        handle(head, in, out);
        if (!head.keepAlive()) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | HttpProtocolException e) {
      if (!closed) {
        log.debug("runtime api connection on {} ended: {}", socket, e.toString());
      }
    } finally {
      connections.remove(connection);
    }
  }

  private void handle(HttpRequestHead head, InputStream in, OutputStream out) throws IOException, InterruptedException {
    var path = head.path();
    if (head.method().equals("GET") && path.equals(INVOCATION + "next")) {
      var next = handler.next();
      if (next == null) {
        reply(out, RuntimeReply.error(403, "InvalidStateTransition",
            "An invocation is in progress: post its response or error before asking for the next one."));
        return;
      }
      try {
        sendNext(out, next);
      } catch (IOException e) {
        handler.undelivered(next);
        throw e;
      }
      return;
    }
    if (!head.method().equals("POST")) {
      discardBody(head, in);
      reply(out, RuntimeReply.error(404, "UnknownRoute", "Unknown Runtime API route " + head.method() + " " + path));
      return;
    }
    if (path.equals(PREFIX + "init/error")) {
      reply(out, handler.initError(errorType(head), readAll(head, in)));
      return;
    }
    if (path.startsWith(INVOCATION)) {
      var rest = path.substring(INVOCATION.length());
      int slash = rest.indexOf('/');
      if (slash > 0) {
        var requestId = rest.substring(0, slash);
        var action = rest.substring(slash + 1);
        if (action.equals("response")) {
          reply(out, respond(head, in, requestId));
          return;
        }
        if (action.equals("error")) {
          reply(out, handler.error(requestId, errorType(head), readAll(head, in)));
          return;
        }
      }
    }
    discardBody(head, in);
    reply(out, RuntimeReply.error(404, "UnknownRoute", "Unknown Runtime API route POST " + path));
  }

  private RuntimeReply respond(HttpRequestHead head, InputStream in, String requestId) throws IOException {
    if (head.chunked()) {
      var trailers = new LinkedHashMap<String, List<String>>();
      var done = new boolean[1];
      var reader = new RuntimeApiHandler.ChunkReader() {
        @Override
        public byte[] next() throws IOException {
          if (done[0]) {
            return null;
          }
          var chunk = HttpWire.readChunk(in, trailers);
          done[0] = chunk == null;
          return chunk;
        }

        @Override
        public String trailer(String name) {
          var values = trailers.get(name.toLowerCase(java.util.Locale.ROOT));
          return values == null || values.isEmpty() ? null : values.getFirst();
        }

        @Override
        public String contentType() {
          return head.header("content-type");
        }
      };
      var streaming = "streaming".equalsIgnoreCase(head.header("lambda-runtime-function-response-mode"));
      RuntimeReply result;
      if (streaming) {
        result = handler.streamingResponse(requestId, reader);
      } else {
        // A buffered response sent chunked (some clients do): gather it, within the limit.
        var body = new java.io.ByteArrayOutputStream();
        boolean tooLarge = false;
        for (var chunk = reader.next(); chunk != null; chunk = reader.next()) {
          if (!tooLarge && body.size() + chunk.length > MAX_RESPONSE_BYTES) {
            tooLarge = true;
          }
          if (!tooLarge) {
            body.write(chunk);
          }
        }
        var bytes = body.toByteArray();
        result = tooLarge ? handler.response(requestId, MAX_RESPONSE_BYTES + 1, limit -> null)
            : handler.response(requestId, bytes.length, limit -> bytes.length > limit ? null : bytes);
      }
      while (reader.next() != null) {
        // Drain whatever the handler did not read so the connection stays usable.
      }
      return result;
    }
    long length = head.contentLength();
    var consumed = new boolean[1];
    var result = handler.response(requestId, length, limit -> {
      consumed[0] = true;
      return HttpWire.readFixedBody(in, length, limit);
    });
    if (!consumed[0]) {
      in.skipNBytes(length);
    }
    return result;
  }

  private static String errorType(HttpRequestHead head) {
    var type = head.header("lambda-runtime-function-error-type");
    return type == null || type.isBlank() ? "Unhandled" : type;
  }

  private static byte[] readAll(HttpRequestHead head, InputStream in) throws IOException {
    if (head.chunked()) {
      var body = new java.io.ByteArrayOutputStream();
      var trailers = new LinkedHashMap<String, List<String>>();
      for (var chunk = HttpWire.readChunk(in, trailers); chunk != null; chunk = HttpWire.readChunk(in, trailers)) {
        if (body.size() < MAX_RESPONSE_BYTES) {
          body.write(chunk);
        }
      }
      return body.toByteArray();
    }
    var body = HttpWire.readFixedBody(in, head.contentLength(), MAX_RESPONSE_BYTES);
    return body == null ? new byte[0] : body;
  }

  private static void discardBody(HttpRequestHead head, InputStream in) throws IOException {
    readAll(head, in);
  }

  private static void sendNext(OutputStream out, NextInvocation next) throws IOException {
    var headers = new LinkedHashMap<String, String>();
    headers.put("Content-Type", "application/json");
    headers.put("Lambda-Runtime-Aws-Request-Id", next.requestId());
    headers.put("Lambda-Runtime-Deadline-Ms", Long.toString(next.deadlineEpochMs()));
    headers.put("Lambda-Runtime-Invoked-Function-Arn", next.invokedFunctionArn());
    headers.put("Lambda-Runtime-Trace-Id", next.traceId());
    if (next.clientContext() != null) {
      headers.put("Lambda-Runtime-Client-Context", next.clientContext());
    }
    if (next.cognitoIdentity() != null) {
      headers.put("Lambda-Runtime-Cognito-Identity", next.cognitoIdentity());
    }
    HttpWire.writeResponse(out, 200, "OK", headers, next.payload());
  }

  private static void reply(OutputStream out, RuntimeReply reply) throws IOException {
    HttpWire.writeResponse(out, reply.status(), reason(reply.status()),
        Map.of("Content-Type", "application/json"), reply.body().getBytes(StandardCharsets.UTF_8));
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 202 -> "Accepted";
      case 400 -> "Bad Request";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 413 -> "Request Entity Too Large";
      case 500 -> "Internal Server Error";
      default -> "Status";
    };
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      log.debug("closing runtime api socket {}: {}", socket, e.toString());
    }
    for (var connection : connections) {
      try {
        connection.close();
      } catch (IOException ignored) {
        // Already gone: nothing left to release.
      }
    }
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      log.debug("removing runtime api socket {}: {}", socket, e.toString());
    }
  }
}
