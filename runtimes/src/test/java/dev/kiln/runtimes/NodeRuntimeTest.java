package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.runtimes.FakeRuntimeApi.Kind;
import dev.kiln.runtimes.FakeRuntimeApi.Posted;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Node.js bootstrap, run by the machine's node against the test Runtime API. */
class NodeRuntimeTest extends RuntimeTestBase {
  static final String RUNTIME = "nodejs20.x";

  @BeforeAll
  static void nodeAvailable() {
    assumeTrue(catalog().supported().contains(RUNTIME), "node is not installed");
  }

  @Test
  void asyncHandlerReturnsTheEventAndKeepsStateBetweenInvocations() throws Exception {
    write("index.js", """
        let count = 0;
        exports.handler = async (event, context) => {
          count++;
          return { event, count, requestId: context.awsRequestId };
        };
        """);
    start(RUNTIME, "index.handler");
    for (int i = 1; i <= 3; i++) {
      var pending = api.invoke("{\"hello\":\"world\",\"i\":" + i + "}");
      Posted posted = pending.await();
      assertThat(posted.kind()).isEqualTo(Kind.RESPONSE);
      Map<String, Object> body = json(posted.body());
      assertThat(body.get("event")).isEqualTo(Map.of("hello", "world", "i", i));
      assertThat(body.get("count")).isEqualTo(i);
      assertThat(body.get("requestId")).isEqualTo(pending.requestId());
    }
    assertThat(api.connections()).as("one keep-alive connection").isEqualTo(1);
  }

  @Test
  void undefinedResultIsNull() throws Exception {
    write("index.js", "exports.handler = async () => undefined;\n");
    start(RUNTIME, "index.handler");
    assertThat(api.invoke("{}").await().body()).isEqualTo("null");
  }

  @Test
  void callbackHandlerWaitsForTheEmptyEventLoopUnlessTold() throws Exception {
    write("index.js", """
        exports.handler = (event, context, callback) => {
          setTimeout(() => console.log('timer fired'), 300);
          if (!event.wait) context.callbackWaitsForEmptyEventLoop = false;
          callback(null, { waited: event.wait });
        };
        """);
    RuntimeProcess p = start(RUNTIME, "index.handler");
    long t0 = System.nanoTime();
    Posted waited = api.invoke("{\"wait\":true}").await();
    long waitedMs = (waited.arrivedNanos() - t0) / 1_000_000;
    assertThat(json(waited.body())).containsEntry("waited", true);
    assertThat(p.output()).contains("timer fired");
    assertThat(waitedMs).isGreaterThanOrEqualTo(290);

    long t1 = System.nanoTime();
    Posted quick = api.invoke("{\"wait\":false}").await();
    assertThat(json(quick.body())).containsEntry("waited", false);
    assertThat((quick.arrivedNanos() - t1) / 1_000_000).isLessThan(250);
  }

  @Test
  void legacyContextSucceedFailDone() throws Exception {
    write("index.js", """
        exports.handler = (event, context) => {
          if (event.how === 'succeed') context.succeed({ ok: 1 });
          else if (event.how === 'done') context.done(null, { ok: 2 });
          else context.fail(new RangeError('nope'));
          context.succeed({ ignored: true }); // only the first call counts
        };
        """);
    start(RUNTIME, "index.handler");
    assertThat(json(api.invoke("{\"how\":\"succeed\"}").await().body())).containsEntry("ok", 1);
    assertThat(json(api.invoke("{\"how\":\"done\"}").await().body())).containsEntry("ok", 2);
    Posted failed = api.invoke("{\"how\":\"fail\"}").await();
    assertThat(failed.kind()).isEqualTo(Kind.ERROR);
    assertThat(json(failed.body())).containsEntry("errorType", "RangeError").containsEntry("errorMessage", "nope");
  }

  @Test
  void synchronousHandlerWithoutCallbackAnswersNull() throws Exception {
    write("index.js", "exports.handler = (event) => { console.log('sync'); };\n");
    start(RUNTIME, "index.handler");
    assertThat(api.invoke("{}").await().body()).isEqualTo("null");
  }

  @Test
  void esModuleMjs() throws Exception {
    write("index.mjs", """
        import { platform } from 'node:os';
        export const handler = async (event) => ({ esm: true, platform: platform(), event });
        """);
    start(RUNTIME, "index.handler");
    Map<String, Object> body = json(api.invoke("[1,2]").await().body());
    assertThat(body).containsEntry("esm", true).containsEntry("event", List.of(1, 2));
  }

  @Test
  void esModuleByPackageTypeAndCommonJsCjs() throws Exception {
    write("package.json", "{\"type\":\"module\"}");
    write("app.js", "export async function handler(event) { return { from: 'app.js', typeofRequire: typeof require }; }\n");
    write("other.cjs", "exports.handler = async () => ({ from: 'other.cjs', typeofRequire: typeof require });\n");
    start(RUNTIME, "app.handler");
    assertThat(json(api.invoke("{}").await().body()))
        .containsEntry("from", "app.js").containsEntry("typeofRequire", "undefined");

    FakeRuntimeApi second = FakeRuntimeApi.start();
    try (second) {
      RuntimeCommand cmd = catalog().command(RUNTIME, "other.handler").orElseThrow()
          .withHostPaths(catalog().runtimeDir(), task);
      Map<String, String> env = RuntimeProcess.lambdaEnvironment("other.handler", task, second);
      env.putAll(cmd.extraEnvironment());
      track(RuntimeProcess.start(cmd.command(), env, task));
      assertThat(json(second.invoke("{}").await().body()))
          .containsEntry("from", "other.cjs").containsEntry("typeofRequire", "function");
    }
  }

  @Test
  void handlerInSubdirectoryWithNestedProperty() throws Exception {
    write("src/app.js", "exports.api = { v1: { handler: async (e) => ({ nested: e.x }) } };\n");
    start(RUNTIME, "src/app.api.v1.handler");
    assertThat(json(api.invoke("{\"x\":42}").await().body())).containsEntry("nested", 42);
  }

  @Test
  void handledErrorShape() throws Exception {
    write("index.js", """
        class ValidationError extends Error { constructor(m) { super(m); this.name = 'ValidationError'; } }
        exports.handler = async (event) => {
          if (event.kind === 'custom') throw new ValidationError('bad input');
          if (event.kind === 'callback') return new Promise((_, reject) => reject(new TypeError('typed')));
          throw 'a string';
        };
        """);
    RuntimeProcess p = start(RUNTIME, "index.handler");
    Posted custom = api.invoke("{\"kind\":\"custom\"}").await();
    assertThat(custom.kind()).isEqualTo(Kind.ERROR);
    assertThat(custom.errorType()).isEqualTo("ValidationError");
    Map<String, Object> body = json(custom.body());
    assertThat(body).containsEntry("errorType", "ValidationError").containsEntry("errorMessage", "bad input");
    @SuppressWarnings("unchecked")
    List<String> trace = (List<String>) body.get("trace");
    assertThat(trace.get(0)).isEqualTo("ValidationError: bad input");
    assertThat(trace.get(1)).contains("index.js:3");

    assertThat(json(api.invoke("{\"kind\":\"callback\"}").await().body())).containsEntry("errorType", "TypeError");
    Posted string = api.invoke("{\"kind\":\"string\"}").await();
    assertThat(json(string.body())).containsEntry("errorType", "string").containsEntry("errorMessage", "a string");
    assertThat(p.output()).contains("\tERROR\tInvoke Error \t{\"errorType\":\"ValidationError\"");
    assertThat(p.isAlive()).as("a handled error keeps the process").isTrue();
  }

  @Test
  void uncaughtExceptionDuringInvocationIsReportedAndEndsTheProcess() throws Exception {
    write("index.js", """
        exports.handler = (event, context, callback) => {
          setTimeout(() => { throw new Error('from a timer'); }, 10);
        };
        """);
    RuntimeProcess p = start(RUNTIME, "index.handler");
    Posted posted = api.invoke("{}").await();
    assertThat(posted.kind()).isEqualTo(Kind.ERROR);
    assertThat(json(posted.body())).containsEntry("errorMessage", "from a timer");
    assertThat(p.awaitExit(Duration.ofSeconds(10))).isEqualTo(129);
  }

  @Test
  void initErrors() throws Exception {
    assertInitError("index.js", "exports.handler = async () => { return {; };\n", "index.handler",
        "Runtime.UserCodeSyntaxError", "SyntaxError: ");
    assertInitError("index.js", "exports.other = 1;\n", "nothere.handler",
        "Runtime.ImportModuleError", "Error: Cannot find module 'nothere'");
    assertInitError("index.js", "exports.other = 1;\n", "index.handler",
        "Runtime.HandlerNotFound", "index.handler is undefined or not exported");
    assertInitError("index.js", "exports.handler = 5;\n", "index.handler",
        "Runtime.HandlerNotFound", "index.handler is not a function");
    assertInitError("index.js", "exports.handler = () => 1;\n", "index",
        "Runtime.MalformedHandlerName", "Bad handler");
    assertInitError("index.js", "require('left-pad');\nexports.handler = () => 1;\n", "index.handler",
        "Runtime.ImportModuleError", "Cannot find module 'left-pad'");
    assertInitError("index.js", "throw new URIError('during init');\n", "index.handler", "URIError", "during init");
    assertInitError("index.mjs", "export const handler = async () => { return {; };\n", "index.handler",
        "Runtime.UserCodeSyntaxError", "SyntaxError: ");
  }

  private void assertInitError(String file, String code, String handler, String type, String message)
      throws Exception {
    try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
      RuntimeTestBase.deleteTree(task);
      java.nio.file.Files.createDirectories(task);
      write(file, code);
      RuntimeCommand cmd = catalog().command(RUNTIME, handler).orElseThrow()
          .withHostPaths(catalog().runtimeDir(), task);
      Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, task, own);
      env.putAll(cmd.extraEnvironment());
      RuntimeProcess p = track(RuntimeProcess.start(cmd.command(), env, task));
      Posted posted = own.initError().get(20, java.util.concurrent.TimeUnit.SECONDS);
      Map<String, Object> body = json(posted.body());
      assertThat(body.get("errorType")).as(handler + " " + code).isEqualTo(type);
      assertThat((String) body.get("errorMessage")).contains(message);
      assertThat(body).containsKey("trace");
      assertThat(posted.errorType()).isEqualTo(type);
      assertThat(p.awaitExit(Duration.ofSeconds(10))).isNotNull().isNotZero();
      assertThat(own.nextCalls()).isZero();
    }
  }

  @Test
  void contextFields() throws Exception {
    write("index.js", """
        exports.handler = async (event, context) => {
          const first = context.getRemainingTimeInMillis();
          await new Promise((r) => setTimeout(r, 120));
          return {
            first, second: context.getRemainingTimeInMillis(),
            awsRequestId: context.awsRequestId, functionName: context.functionName,
            functionVersion: context.functionVersion, invokedFunctionArn: context.invokedFunctionArn,
            memoryLimitInMB: context.memoryLimitInMB, logGroupName: context.logGroupName,
            logStreamName: context.logStreamName, clientContext: context.clientContext,
            identity: context.identity, wait: context.callbackWaitsForEmptyEventLoop,
            traceId: process.env._X_AMZN_TRACE_ID, executionEnv: process.env.AWS_EXECUTION_ENV,
          };
        };
        """);
    start(RUNTIME, "index.handler");
    var pending = api.invoke(FakeRuntimeApi.Invoke.of("{}").withTimeout(5000)
        .withClientContext("{\"custom\":{\"k\":\"v\"},\"env\":{\"platform\":\"test\"}}")
        .withCognitoIdentity("{\"cognitoIdentityId\":\"id-1\",\"cognitoIdentityPoolId\":\"pool-1\"}"));
    Map<String, Object> c = json(pending.await().body());
    int first = (Integer) c.get("first");
    int second = (Integer) c.get("second");
    assertThat(first).isBetween(3000, 5000);
    assertThat(second).isLessThanOrEqualTo(first - 100);
    assertThat(c).containsEntry("awsRequestId", pending.requestId())
        .containsEntry("functionName", "test-fn")
        .containsEntry("functionVersion", "$LATEST")
        .containsEntry("invokedFunctionArn", "arn:aws:lambda:us-east-1:123456789012:function:test-fn")
        .containsEntry("memoryLimitInMB", "256")
        .containsEntry("logGroupName", "/aws/lambda/test-fn")
        .containsEntry("logStreamName", "2026/11/23/[$LATEST]0123456789abcdef")
        .containsEntry("clientContext", Map.of("custom", Map.of("k", "v"), "env", Map.of("platform", "test")))
        .containsEntry("identity", Map.of("cognitoIdentityId", "id-1", "cognitoIdentityPoolId", "pool-1"))
        .containsEntry("wait", true)
        .containsEntry("traceId", "Root=1-5e1b4151-5ac6c58f5b5daa6532e4f2e1;Parent=1;Sampled=0")
        .containsEntry("executionEnv", "AWS_Lambda_nodejs20.x");
  }

  @Test
  void consoleLogsInLambdaTextFormat() throws Exception {
    write("index.js", """
        console.log('loading');
        exports.handler = async (event) => {
          console.log('hello %s', 'world', { n: 1 });
          console.error('bad', 'thing');
          console.warn('line one\\nline two');
          console.debug('dbg');
          return 'ok';
        };
        """);
    RuntimeProcess p = start(RUNTIME, "index.handler");
    var pending = api.invoke("{}");
    pending.await();
    String id = pending.requestId();
    String out = awaitOutput(p, "dbg");
    String ts = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    assertThat(List.of(out.split("\n"))) // split on \n only: a multi-line message keeps its \r inside
        .anySatisfy(l -> assertThat(l).matches(ts + "\tundefined\tINFO\tloading"))
        .anySatisfy(l -> assertThat(l).matches(ts + "\t" + id + "\tINFO\thello world \\{ n: 1 \\}"))
        .anySatisfy(l -> assertThat(l).matches(ts + "\t" + id + "\tERROR\tbad thing"))
        .anySatisfy(l -> assertThat(l).matches(ts + "\t" + id + "\tWARN\tline one\rline two"))
        .anySatisfy(l -> assertThat(l).matches(ts + "\t" + id + "\tDEBUG\tdbg"));
  }

  @Test
  void logLevelFilterAndJsonFormat() throws Exception {
    write("index.js", """
        exports.handler = async () => { console.debug('hidden'); console.info('shown', 1); return 1; };
        """);
    RuntimeProcess p = start(RUNTIME, "index.handler",
        Map.of("AWS_LAMBDA_LOG_LEVEL", "INFO", "AWS_LAMBDA_LOG_FORMAT", "JSON"));
    var pending = api.invoke("{}");
    pending.await();
    String out = awaitOutput(p, "shown");
    assertThat(out).doesNotContain("hidden");
    String line = out.lines().filter(l -> l.contains("shown")).findFirst().orElseThrow();
    assertThat(json(line)).containsEntry("level", "INFO").containsEntry("message", "shown 1")
        .containsEntry("requestId", pending.requestId()).containsKey("timestamp");
  }

  @Test
  void responseStreaming() throws Exception {
    write("index.mjs", """
        export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
          responseStream.setContentType('text/plain');
          responseStream.write('hello ');
          await new Promise((r) => setTimeout(r, 20));
          responseStream.write(Buffer.from('streamed '));
          responseStream.end(context.awsRequestId);
        });
        """);
    start(RUNTIME, "index.handler");
    var pending = api.invoke("{}");
    Posted posted = pending.await();
    assertThat(posted.kind()).isEqualTo(Kind.RESPONSE);
    assertThat(posted.body()).isEqualTo("hello streamed " + pending.requestId());
    assertThat(posted.headers().getFirst("Lambda-Runtime-Function-Response-Mode")).isEqualTo("streaming");
    assertThat(posted.headers().getFirst("Content-Type")).isEqualTo("text/plain");
    assertThat(posted.headers().getFirst("Transfer-Encoding")).isEqualTo("chunked");
    // and the runtime goes on to the next invocation
    assertThat(api.invoke("{}").await().kind()).isEqualTo(Kind.RESPONSE);
  }

  @Test
  void streamedResponseFailingMidwayReportsTheErrorInTrailers() throws Exception {
    write("index.mjs", """
        export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
          responseStream.write('partial ');
          await new Promise((r) => setTimeout(r, 10));
          throw new RangeError('broke midway');
        });
        """);
    try (RawRuntimeApi raw = new RawRuntimeApi()) {
      RuntimeCommand cmd = catalog().command(RUNTIME, "index.handler").orElseThrow()
          .withHostPaths(catalog().runtimeDir(), task);
      Map<String, String> env = RuntimeProcess.lambdaEnvironment("index.handler", task, api);
      env.putAll(cmd.extraEnvironment());
      env.put("AWS_LAMBDA_RUNTIME_API", raw.address());
      track(RuntimeProcess.start(cmd.command(), env, task));
      raw.invoke("{}");
      RawRuntimeApi.Streamed posted = raw.posted.get(20, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(posted.path()).isEqualTo("/2018-06-01/runtime/invocation/raw-1/response");
      assertThat(posted.headers()).containsEntry("lambda-runtime-function-response-mode", "streaming")
          .containsEntry("trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body");
      assertThat(new String(posted.body(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("partial ");
      assertThat(posted.trailers()).containsEntry("lambda-runtime-function-error-type", "RangeError");
      String errorBody = new String(java.util.Base64.getDecoder()
          .decode(posted.trailers().get("lambda-runtime-function-error-body")), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(json(errorBody)).containsEntry("errorType", "RangeError").containsEntry("errorMessage", "broke midway");
    }
  }

  @Test
  void httpResponseStreamPrelude() throws Exception {
    write("index.js", """
        exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
          const http = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { a: 'b' } });
          http.write('body');
          http.end();
        });
        """);
    start(RUNTIME, "index.handler");
    Posted posted = api.invoke("{}").await();
    assertThat(posted.headers().getFirst("Content-Type"))
        .isEqualTo("application/vnd.awslambda.http-integration-response");
    assertThat(posted.body()).isEqualTo("{\"statusCode\":201,\"headers\":{\"a\":\"b\"}}" + "\0".repeat(8) + "body");
  }
}
