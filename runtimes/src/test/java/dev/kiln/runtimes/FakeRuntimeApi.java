package dev.kiln.runtimes;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test stand-in for Kiln's Runtime API server: queues invocations, hands them out on
 * {@code GET /2018-06-01/runtime/invocation/next} and records what the runtime posts back.
 */
final class FakeRuntimeApi implements AutoCloseable {
  static final String PREFIX = "/2018-06-01/runtime/";

  enum Kind { RESPONSE, ERROR, INIT_ERROR }

  /** What the runtime posted for one invocation (or for its initialization). */
  record Posted(Kind kind, String requestId, String body, Headers headers, long arrivedNanos) {
    String errorType() {
      return headers.getFirst("Lambda-Runtime-Function-Error-Type");
    }
  }

  /** One invocation to hand out. */
  record Invoke(String event, long timeoutMs, String clientContext, String cognitoIdentity, String functionArn,
      String traceId) {
    static Invoke of(String event) {
      return new Invoke(event, 30_000, null, null, "arn:aws:lambda:us-east-1:123456789012:function:test-fn",
          "Root=1-5e1b4151-5ac6c58f5b5daa6532e4f2e1;Parent=1;Sampled=0");
    }

    Invoke withTimeout(long ms) {
      return new Invoke(event, ms, clientContext, cognitoIdentity, functionArn, traceId);
    }

    Invoke withClientContext(String json) {
      return new Invoke(event, timeoutMs, json, cognitoIdentity, functionArn, traceId);
    }

    Invoke withCognitoIdentity(String json) {
      return new Invoke(event, timeoutMs, clientContext, json, functionArn, traceId);
    }
  }

  /** An invocation handed to the runtime, with the outcome it will post. */
  record Pending(String requestId, CompletableFuture<Posted> outcome) {
    Posted await() throws Exception {
      return outcome.get(30, TimeUnit.SECONDS);
    }
  }

  private record Queued(Invoke invoke, Pending pending) {}

  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final BlockingQueue<Queued> queue = new LinkedBlockingQueue<>();
  private final Map<String, Pending> inFlight = new ConcurrentHashMap<>();
  private final CompletableFuture<Posted> initError = new CompletableFuture<>();
  private final CompletableFuture<Long> firstNext = new CompletableFuture<>();
  private final AtomicInteger nextCalls = new AtomicInteger();
  private final AtomicInteger connections = new AtomicInteger();
  private final Map<Object, Boolean> seenConnections = new ConcurrentHashMap<>();

  static {
    // Kiln's own server answers with TCP_NODELAY; the JDK server does not by default, and Nagle's algorithm
    // then holds a response body back behind its headers for a client that does not acknowledge at once.
    System.setProperty("sun.net.httpserver.nodelay", "true");
  }

  private FakeRuntimeApi() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  static FakeRuntimeApi start() throws IOException {
    return new FakeRuntimeApi();
  }

  /** The value for {@code AWS_LAMBDA_RUNTIME_API}. */
  String address() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  Pending invoke(String event) {
    return invoke(Invoke.of(event));
  }

  Pending invoke(Invoke invoke) {
    String id = UUID.randomUUID().toString();
    Pending pending = new Pending(id, new CompletableFuture<>());
    queue.add(new Queued(invoke, pending));
    return pending;
  }

  CompletableFuture<Posted> initError() {
    return initError;
  }

  /** When (System.nanoTime) the first {@code GET .../invocation/next} arrived. */
  CompletableFuture<Long> firstNext() {
    return firstNext;
  }

  /** As {@link #firstNext()}, waited for. */
  long firstNextNanos() throws Exception {
    return firstNext.get(30, TimeUnit.SECONDS);
  }

  int nextCalls() {
    return nextCalls.get();
  }

  /** Distinct TCP connections that sent requests (keep-alive means one per runtime process). */
  int connections() {
    return connections.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Object connection = exchange.getRemoteAddress();
      if (seenConnections.putIfAbsent(connection, Boolean.TRUE) == null) {
        connections.incrementAndGet();
      }
      String path = exchange.getRequestURI().getPath();
      String method = exchange.getRequestMethod();
      if (method.equals("GET") && path.equals(PREFIX + "invocation/next")) {
        next(exchange);
        return;
      }
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      long arrived = System.nanoTime();
      String text = new String(body, StandardCharsets.UTF_8);
      if (method.equals("POST") && path.equals(PREFIX + "init/error")) {
        initError.complete(new Posted(Kind.INIT_ERROR, null, text, exchange.getRequestHeaders(), arrived));
        reply(exchange, 202, "{\"status\":\"OK\"}");
        return;
      }
      if (method.equals("POST") && path.startsWith(PREFIX + "invocation/")) {
        String rest = path.substring((PREFIX + "invocation/").length());
        int slash = rest.lastIndexOf('/');
        String id = slash < 0 ? rest : rest.substring(0, slash);
        String what = slash < 0 ? "" : rest.substring(slash + 1);
        Pending pending = inFlight.remove(id);
        if (pending == null || !(what.equals("response") || what.equals("error"))) {
          reply(exchange, 400, "{\"errorMessage\":\"unknown request id or path\",\"errorType\":\"InvalidRequestID\"}");
          return;
        }
        Kind kind = what.equals("response") ? Kind.RESPONSE : Kind.ERROR;
        pending.outcome().complete(new Posted(kind, id, text, exchange.getRequestHeaders(), arrived));
        reply(exchange, 202, "{\"status\":\"OK\"}");
        return;
      }
      reply(exchange, 404, "{\"errorMessage\":\"not found\"}");
    }
  }

  private void next(HttpExchange exchange) throws IOException {
    firstNext.complete(System.nanoTime());
    nextCalls.incrementAndGet();
    Queued queued;
    try {
      queued = queue.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    Invoke invoke = queued.invoke();
    String id = queued.pending().requestId();
    inFlight.put(id, queued.pending());
    Headers h = exchange.getResponseHeaders();
    h.set("Lambda-Runtime-Aws-Request-Id", id);
    h.set("Lambda-Runtime-Deadline-Ms", Long.toString(System.currentTimeMillis() + invoke.timeoutMs()));
    h.set("Lambda-Runtime-Invoked-Function-Arn", invoke.functionArn());
    h.set("Lambda-Runtime-Trace-Id", invoke.traceId());
    h.set("Content-Type", "application/json");
    if (invoke.clientContext() != null) {
      h.set("Lambda-Runtime-Client-Context", invoke.clientContext());
    }
    if (invoke.cognitoIdentity() != null) {
      h.set("Lambda-Runtime-Cognito-Identity", invoke.cognitoIdentity());
    }
    byte[] event = invoke.event().getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(200, event.length == 0 ? -1 : event.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(event);
    }
  }

  private static void reply(HttpExchange exchange, int status, String json) throws IOException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
