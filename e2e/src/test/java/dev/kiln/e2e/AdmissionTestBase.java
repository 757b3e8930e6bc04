package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.SignedHttp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.CreateFunctionRequest;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;
import tools.jackson.databind.JsonNode;

/**
 * Shared by the admission areas: one Node function that does what its event says (sleep, fail,
 * crash, hang) and reports when it ran by the machine's clock, parallel invokes fired together,
 * and every outcome of an invoke (admitted or throttled, with Lambda's Reason) as one record.
 *
 * <p>Function-side timestamps (Date.now() inside the sandbox, the same clock as the test's) lie
 * inside the time the server held the invocation's concurrency slot, so they can be compared with
 * the test's own times without any allowance for HTTP transit.
 */
abstract class AdmissionTestBase extends InvokeTestBase {
  static final String CONCURRENT = "ConcurrentInvocationLimitExceeded";
  static final String RESERVED_CONCURRENT = "ReservedFunctionConcurrentInvocationLimitExceeded";
  static final String FUNCTION_RATE = "FunctionInvocationRateLimitExceeded";
  static final String RESERVED_RATE = "ReservedFunctionInvocationRateLimitExceeded";
  static final String CALLER_RATE = "CallerRateLimitExceeded";

  /**
   * event: {tag, ms, action: ok|fail|crash|hang}. Prints "admission-start tag=T at=MS deadline=MS"
   * first, then sleeps ms, then acts. "ok" returns {tag, start, end, deadline, envId}; "fail"
   * throws an Error whose message is that same JSON.
   */
  static final String NODE_ADMISSION =
      """
      const envId = require('node:crypto').randomUUID();
      exports.handler = async (event, context) => {
        const start = Date.now();
        const deadline = start + context.getRemainingTimeInMillis();
        const tag = event.tag || '';
        console.log(`admission-start tag=${tag} at=${start} deadline=${deadline}`);
        if (event.ms) await new Promise((r) => setTimeout(r, event.ms));
        const report = { tag, start, end: Date.now(), deadline, envId };
        switch (event.action) {
          case 'fail': throw new Error(JSON.stringify(report));
          case 'crash': process.exit(3);
          case 'hang': await new Promise((r) => setTimeout(r, 600000)); break;
        }
        console.log(`admission-end tag=${tag} at=${report.end}`);
        return report;
      };
      """;

  private static final Pattern START_LINE =
      Pattern.compile("admission-start tag=(\\S*) at=(\\d+) deadline=(\\d+)");

  /** Virtual threads for parallel invokes; they block on HTTP. */
  protected final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();

  @org.junit.jupiter.api.AfterAll
  void closePool() {
    pool.shutdownNow();
  }

  /** Deploys the admission function (Node 22, 128 MB) with the given timeout in seconds. */
  protected String deployAdmission(String prefix, int timeoutSeconds) {
    return deployAdmission(prefix, timeoutSeconds, b -> {});
  }

  protected String deployAdmission(
      String prefix, int timeoutSeconds, Consumer<CreateFunctionRequest.Builder> extra) {
    return deploy(
        prefix,
        "nodejs22.x",
        "index.handler",
        Functions.node(NODE_ADMISSION),
        b -> {
          b.timeout(timeoutSeconds).memorySize(128);
          extra.accept(b);
        });
  }

  protected static String event(String tag, String action, long ms) {
    return "{\"tag\":\"" + tag + "\",\"action\":\"" + action + "\",\"ms\":" + ms + "}";
  }

  protected static String newTag() {
    return UUID.randomUUID().toString().substring(0, 13);
  }

  /** Wall clock in microseconds: comparable with the function's Date.now() (milliseconds). */
  protected static long nowMicros() {
    Instant now = Instant.now();
    return ChronoUnit.MICROS.between(Instant.EPOCH, now);
  }

  /** One synchronous invoke and what came of it. */
  record Call(String function, String tag, String action, long ms) {
    String payload() {
      return event(tag, action, ms);
    }
  }

  /**
   * What a synchronous invoke returned. {@code fnStartMs}/{@code fnEndMs} are the function's own
   * clock readings when it reported them (payload, error message or log tail), else -1.
   */
  record Outcome(
      Call call,
      long sentMicros,
      long receivedMicros,
      int status,
      String functionError,
      String reason,
      String retryAfter,
      String errorCode,
      String payload,
      String log,
      long fnStartMs,
      long fnEndMs) {

    boolean admitted() {
      return status == 200;
    }

    boolean throttled() {
      return status == 429;
    }

    JsonNode json() {
      return JSON.readTree(payload);
    }

    String errorType() {
      return functionError == null ? null : json().path("errorType").asString();
    }

    @Override
    public String toString() {
      return call.function()
          + " "
          + call.action()
          + "/"
          + call.ms()
          + " tag="
          + call.tag()
          + " -> "
          + status
          + (functionError != null ? " " + functionError + " " + errorType() : "")
          + (reason != null ? " reason=" + reason + " retryAfter=" + retryAfter : "")
          + (errorCode != null && reason == null ? " " + errorCode : "")
          + " sent="
          + sentMicros / 1000
          + " received="
          + receivedMicros / 1000
          + " fn=["
          + fnStartMs
          + ","
          + fnEndMs
          + ")";
    }
  }

  /** A synchronous invoke through the SDK (with the log tail); a 429 becomes an outcome too. */
  protected Outcome call(Call call) {
    long sent = nowMicros();
    try {
      InvokeResponse r =
          lambda.invoke(
              b ->
                  b.functionName(call.function())
                      .logType(LogType.TAIL)
                      .payload(SdkBytes.fromUtf8String(call.payload())));
      long received = nowMicros();
      String payload = r.payload() == null ? "" : r.payload().asUtf8String();
      String log = r.logResult() == null ? null : dev.kiln.e2e.support.Invocation.decode(r.logResult());
      long[] fn = functionTimes(payload, r.functionError(), log);
      return new Outcome(
          call, sent, received, r.statusCode(), r.functionError(), null, null, null, payload, log, fn[0], fn[1]);
    } catch (TooManyRequestsException e) {
      long received = nowMicros();
      return new Outcome(
          call,
          sent,
          received,
          e.statusCode(),
          null,
          e.reasonAsString(),
          e.retryAfterSeconds(),
          e.awsErrorDetails().errorCode(),
          e.awsErrorDetails().errorMessage(),
          null,
          -1,
          -1);
    } catch (software.amazon.awssdk.awscore.exception.AwsServiceException e) {
      long received = nowMicros();
      return new Outcome(
          call,
          sent,
          received,
          e.statusCode(),
          null,
          null,
          null,
          e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode(),
          e.getMessage(),
          null,
          -1,
          -1);
    }
  }

  /**
   * When the function ran, by its own clock: [start, end) from an "ok" payload or a "fail" error
   * message; for a timeout, [start, deadline - 20 ms) from the START line of the log tail (the
   * server kills it no earlier than the deadline it announced); a crash only has its start.
   */
  private static long[] functionTimes(String payload, String functionError, String log) {
    try {
      if (functionError == null) {
        JsonNode n = JSON.readTree(payload);
        if (n.has("start")) {
          return new long[] {n.path("start").asLong(), n.path("end").asLong()};
        }
      } else {
        JsonNode error = JSON.readTree(payload);
        String type = error.path("errorType").asString();
        if (type.equals("Error")) {
          JsonNode report = JSON.readTree(error.path("errorMessage").asString());
          return new long[] {report.path("start").asLong(), report.path("end").asLong()};
        }
        if (log != null) {
          Matcher m = START_LINE.matcher(log);
          if (m.find()) {
            long start = Long.parseLong(m.group(2));
            long deadline = Long.parseLong(m.group(3));
            if (type.equals("Sandbox.Timedout")) {
              return new long[] {start, Math.max(start, deadline - 20)};
            }
            return new long[] {start, start};
          }
        }
      }
    } catch (RuntimeException e) {
      // Not one of our reports: no function-side times.
    }
    return new long[] {-1, -1};
  }

  /**
   * The most function-side runs [start, end) (milliseconds) that overlap at one moment; an end at
   * the same millisecond as a start comes first.
   */
  static int maxOverlap(List<Outcome> admitted) {
    List<long[]> events = new ArrayList<>();
    for (Outcome o : admitted) {
      if (o.fnStartMs() >= 0 && o.fnEndMs() > o.fnStartMs()) {
        events.add(new long[] {o.fnStartMs(), 1});
        events.add(new long[] {o.fnEndMs(), -1});
      }
    }
    events.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
    int now = 0;
    int max = 0;
    for (long[] e : events) {
      now += (int) e[1];
      max = Math.max(max, now);
    }
    return max;
  }

  /** Starts calls together (after a common gate) and returns their futures. */
  protected List<Future<Outcome>> fire(List<Call> calls) {
    CountDownLatch gate = new CountDownLatch(1);
    List<Future<Outcome>> futures = new ArrayList<>();
    for (Call c : calls) {
      futures.add(
          pool.submit(
              () -> {
                gate.await();
                return call(c);
              }));
    }
    gate.countDown();
    return futures;
  }

  protected static List<Outcome> join(List<Future<Outcome>> futures) {
    List<Outcome> out = new ArrayList<>();
    for (Future<Outcome> f : futures) {
      try {
        out.add(f.get(120, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } catch (ExecutionException | TimeoutException e) {
        throw new IllegalStateException("an invoke did not complete", e);
      }
    }
    return out;
  }

  /** Fires calls together and waits for all of them. */
  protected List<Outcome> parallel(List<Call> calls) {
    return join(fire(calls));
  }

  /** {@code n} calls of one function with the same action and sleep, each with its own tag. */
  protected static List<Call> calls(String function, int n, String action, long ms) {
    List<Call> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Call(function, newTag(), action, ms));
    }
    return out;
  }

  /**
   * Fires {@code holders} (slow calls that together exceed a limit by some), then waits {@code
   * settleMs} so they have all reached the server before the test probes the full limit.
   */
  protected List<Future<Outcome>> hold(List<Call> holders, long settleMs) {
    List<Future<Outcome>> futures = fire(holders);
    sleep(settleMs);
    return futures;
  }

  /** An Event invoke through the SDK; returns its HTTP status. */
  protected int invokeEvent(String function, String payload) {
    return lambda
        .invoke(
            b ->
                b.functionName(function)
                    .invocationType(InvocationType.EVENT)
                    .payload(SdkBytes.fromUtf8String(payload)))
        .statusCode();
  }

  /** The function-side start time (ms) of the run with this tag, from the stored log. */
  protected long loggedStart(String function, String tag) {
    for (JsonNode e : awaitLogEvents(function, "admission-start tag=" + tag + " ")) {
      Matcher m = START_LINE.matcher(e.path("message").asString());
      if (m.find() && m.group(1).equals(tag)) {
        return Long.parseLong(m.group(2));
      }
    }
    throw new AssertionError("no start line for " + tag);
  }

  /** Whether the stored log of the function mentions the tag at all. */
  protected boolean loggedAtAll(String function, String tag) {
    return logEvents(function, 0).stream()
        .anyMatch(e -> e.path("message").asString().contains("tag=" + tag + " "));
  }

  /** A raw signed Invoke, so the 429's status line, headers and body can be checked as sent. */
  protected SignedHttp.Response rawInvoke(String function, String payload, Map<String, String> headers) {
    return http.send(
        "POST", "/2015-03-31/functions/" + function + "/invocations", payload, headers);
  }

  /**
   * Asserts a raw 429 is Lambda's TooManyRequestsException with this Reason: x-amzn-ErrorType,
   * Retry-After (whole seconds, also in the body as the string retryAfterSeconds), Type User, a
   * message.
   */
  protected static void assertThrottleResponse(SignedHttp.Response r, String reason, int minRetry, int maxRetry) {
    assertThat(r.status()).as("status of %s", r).isEqualTo(429);
    assertThat(r.errorType()).as("x-amzn-ErrorType of %s", r).isEqualTo("TooManyRequestsException");
    JsonNode body = r.json();
    assertThat(body.path("Type").asString()).as("Type in %s", r).isEqualTo("User");
    assertThat(body.path("Reason").asString()).as("Reason in %s", r).isEqualTo(reason);
    assertThat(body.path("message").asString()).as("message in %s", r).isNotBlank();
    String header = r.header("Retry-After");
    assertThat(header).as("Retry-After header of %s", r).isNotNull().matches("\\d+");
    assertThat(Integer.parseInt(header)).as("Retry-After of %s", r).isBetween(minRetry, maxRetry);
    assertThat(body.path("retryAfterSeconds").isString())
        .as("retryAfterSeconds is a string in %s", r)
        .isTrue();
    assertThat(body.path("retryAfterSeconds").asString()).as("retryAfterSeconds in %s", r).isEqualTo(header);
  }

  /** Asserts an SDK outcome is a 429 with this Reason and a Retry-After in range. */
  protected static void assertThrottled(Outcome o, String reason, int minRetry, int maxRetry) {
    assertThat(o.status()).as("status of %s", o).isEqualTo(429);
    assertThat(o.errorCode()).as("error code of %s", o).isEqualTo("TooManyRequestsException");
    assertThat(o.reason()).as("Reason of %s", o).isEqualTo(reason);
    assertThat(o.retryAfter()).as("retryAfterSeconds (Retry-After) of %s", o).isNotNull().matches("\\d+");
    assertThat(Integer.parseInt(o.retryAfter())).as("Retry-After of %s", o).isBetween(minRetry, maxRetry);
  }

  /** Asserts a 200 without a function error. */
  protected static void assertOk(Outcome o) {
    assertThat(o.status()).as("status of %s", o).isEqualTo(200);
    assertThat(o.functionError()).as("function error of %s", o).isNull();
  }

  protected static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  protected void putReserved(String function, int reserved) {
    assertThat(
            lambda
                .putFunctionConcurrency(
                    b -> b.functionName(function).reservedConcurrentExecutions(reserved))
                .reservedConcurrentExecutions())
        .isEqualTo(reserved);
  }

  protected void deleteReserved(String function) {
    lambda.deleteFunctionConcurrency(b -> b.functionName(function));
  }

  /** GET /kiln/v1/stats: the node's own view of concurrency and throttles. */
  protected JsonNode stats() {
    SignedHttp.Response r = http.send("GET", "/kiln/v1/stats", (byte[]) null);
    assertThat(r.status()).as("GET /kiln/v1/stats: %s", r).isEqualTo(200);
    return r.json();
  }

  /**
   * Waits until the server holds no concurrency slot at all (account and every function at 0):
   * nothing runs any more, so anything else is a leaked slot.
   */
  protected void awaitNoSlotsHeld() {
    org.awaitility.Awaitility.await("no concurrency slot held")
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(
            () -> {
              JsonNode stats = stats();
              assertThat(stats.path("concurrency").asInt()).as("account concurrency in %s", stats).isZero();
              stats.path("functionConcurrency")
                  .properties()
                  .forEach(e -> assertThat(e.getValue().asInt()).as("%s in %s", e.getKey(), stats).isZero());
            });
  }

  protected int unreserved() {
    return lambda.getAccountSettings().accountLimit().unreservedConcurrentExecutions();
  }
}
