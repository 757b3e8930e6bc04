package dev.kiln.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.CreateFunctionRequest;
import software.amazon.awssdk.services.lambda.model.InvokeRequest;
import software.amazon.awssdk.services.lambda.model.LogType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Helpers for the invoke areas: deploy a function and wait until it is Active, invoke it through
 * the SDK or the aws CLI and get an {@link Invocation} back.
 */
public abstract class InvokeTestBase extends KilnTestBase {
  protected static final JsonMapper JSON = JsonMapper.builder().build();

  @Override
  protected StoreKind store() {
    return StoreKind.SQLITE;
  }

  /** Creates a function (unique name from the prefix) and waits until it is Active. */
  protected String deploy(String prefix, String runtime, String handler, byte[] zip) {
    return deploy(prefix, runtime, handler, zip, b -> {});
  }

  protected String deploy(
      String prefix,
      String runtime,
      String handler,
      byte[] zip,
      Consumer<CreateFunctionRequest.Builder> extra) {
    String name = uniqueName(prefix);
    createFunction(
        name,
        zip,
        b -> {
          b.runtime(runtime).handler(handler).timeout(10).memorySize(256);
          extra.accept(b);
        });
    awaitActive(name);
    return name;
  }

  /** The node's worker counters (cold and warm starts, restores, zygotes, ...) from {@code GET /kiln/v1/stats}. */
  protected JsonNode workerStats() {
    SignedHttp.Response r = http.send("GET", "/kiln/v1/stats", (byte[]) null);
    assertThat(r.status()).as("GET /kiln/v1/stats: %s", r).isEqualTo(200);
    return r.json().path("worker");
  }

  /** {@code count} invokes at once, each given by {@code call}; their results in order. */
  protected static List<Invocation> concurrently(int count, java.util.concurrent.Callable<Invocation> call)
      throws Exception {
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      List<java.util.concurrent.Future<Invocation>> futures = new java.util.ArrayList<>();
      for (int i = 0; i < count; i++) {
        futures.add(pool.submit(call));
      }
      List<Invocation> results = new java.util.ArrayList<>();
      for (var future : futures) {
        results.add(future.get(60, java.util.concurrent.TimeUnit.SECONDS));
      }
      return results;
    }
  }

  /** A synchronous invoke through the SDK with the log tail. */
  protected Invocation invoke(String name, String payload) {
    return invoke(name, payload, b -> {});
  }

  protected Invocation invoke(String name, String payload, Consumer<InvokeRequest.Builder> extra) {
    InvokeRequest.Builder request =
        InvokeRequest.builder()
            .functionName(name)
            .logType(LogType.TAIL)
            .payload(SdkBytes.fromUtf8String(payload));
    extra.accept(request);
    return Invocation.of(lambda.invoke(request.build()));
  }

  /** Base64 of a client context JSON, as X-Amz-Client-Context carries it. */
  protected static String clientContext(String json) {
    return Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * {@code aws lambda invoke --function-name NAME --payload JSON [extra...] OUTFILE} with the log
   * tail; the CLI's answer and the payload it wrote to the outfile.
   */
  protected Invocation cliInvoke(String name, String payload, String... extra) {
    Path out = workDir.resolve("cli-out-" + java.util.UUID.randomUUID() + ".json");
    List<String> args = new ArrayList<>(List.of("invoke", "--function-name", name));
    if (payload != null) {
      args.addAll(List.of("--payload", payload));
    }
    args.addAll(List.of(extra));
    args.add(out.toString());
    JsonNode answer = cli.lambda(args.toArray(String[]::new)).json();
    String body;
    try {
      body = Files.exists(out) ? Files.readString(out) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Invocation(
        answer.path("StatusCode").asInt(),
        answer.path("FunctionError").isMissingNode() ? null : answer.path("FunctionError").asString(),
        answer.path("ExecutedVersion").isMissingNode() ? null : answer.path("ExecutedVersion").asString(),
        body,
        Invocation.decode(answer.path("LogResult").isMissingNode() ? null : answer.path("LogResult").asString()));
  }

  /** Polls the log API until an event of this request contains {@code text}. */
  protected List<JsonNode> awaitLogEvents(String name, String text) {
    List<JsonNode> found = new ArrayList<>();
    org.awaitility.Awaitility.await("log line '" + text + "' of " + name)
        .atMost(java.time.Duration.ofSeconds(20))
        .pollInterval(java.time.Duration.ofMillis(100))
        .until(
            () -> {
              found.clear();
              found.addAll(logEvents(name, 0));
              return found.stream().anyMatch(e -> e.path("message").asString().contains(text));
            });
    return found;
  }

  /** All log events of a function from a position, through the signed log API. */
  protected List<JsonNode> logEvents(String name, long position) {
    SignedHttp.Response r =
        http.send("GET", "/kiln/v1/functions/" + name + "/logs?position=" + position + "&limit=10000", (byte[]) null);
    assertThat(r.status()).as("GET logs: %s", r).isEqualTo(200);
    List<JsonNode> events = new ArrayList<>();
    r.json().path("events").forEach(events::add);
    return events;
  }

  protected static JsonNode json(String text) {
    return JSON.readTree(text);
  }
}
