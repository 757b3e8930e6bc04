package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.runtimes.FakeRuntimeApi.Kind;
import dev.kiln.runtimes.FakeRuntimeApi.Posted;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Python bootstrap, run by the machine's python3 against the test Runtime API. */
class PythonRuntimeTest extends RuntimeTestBase {
  static final String RUNTIME = "python3.12";

  @BeforeAll
  static void pythonAvailable() {
    assumeTrue(catalog().supported().contains(RUNTIME), "python3 is not installed");
  }

  @Test
  void handlerReturnsTheEventAndKeepsStateBetweenInvocations() throws Exception {
    write("lambda_function.py", """
        count = 0

        def lambda_handler(event, context):
            global count
            count += 1
            return {"event": event, "count": count, "requestId": context.aws_request_id}
        """);
    start(RUNTIME, "lambda_function.lambda_handler");
    for (int i = 1; i <= 3; i++) {
      var pending = api.invoke("{\"hello\":\"wörld\",\"i\":" + i + "}");
      Posted posted = pending.await();
      assertThat(posted.kind()).isEqualTo(Kind.RESPONSE);
      Map<String, Object> body = json(posted.body());
      assertThat(body.get("event")).isEqualTo(Map.of("hello", "wörld", "i", i));
      assertThat(body.get("count")).isEqualTo(i);
      assertThat(body.get("requestId")).isEqualTo(pending.requestId());
    }
    assertThat(api.connections()).as("one keep-alive connection").isEqualTo(1);
  }

  @Test
  void packageModulePathsAndScalarResults() throws Exception {
    write("pkg/__init__.py", "");
    write("pkg/sub/__init__.py", "");
    write("pkg/sub/app.py", """
        from . import helper
        def handler(event, context):
            return helper.double(event)
        """);
    write("pkg/sub/helper.py", "def double(x):\n    return x * 2\n");
    start(RUNTIME, "pkg.sub.app.handler");
    assertThat(api.invoke("21").await().body()).isEqualTo("42");
    assertThat(api.invoke("\"ab\"").await().body()).isEqualTo("\"abab\"");
  }

  @Test
  void slashSeparatedModulePath() throws Exception {
    write("src/__init__.py", "");
    write("src/main.py", "def handler(event, context):\n    return None\n");
    start(RUNTIME, "src/main.handler");
    assertThat(api.invoke("{}").await().body()).isEqualTo("null");
  }

  @Test
  void handledErrorShape() throws Exception {
    write("lambda_function.py", """
        class ValidationError(Exception):
            pass

        def fail(x):
            raise ValidationError("bad input: %s" % x)

        def lambda_handler(event, context):
            fail(event["x"])
        """);
    RuntimeProcess p = start(RUNTIME, "lambda_function.lambda_handler");
    var pending = api.invoke("{\"x\":7}");
    Posted posted = pending.await();
    assertThat(posted.kind()).isEqualTo(Kind.ERROR);
    assertThat(posted.errorType()).isEqualTo("ValidationError");
    Map<String, Object> body = json(posted.body());
    assertThat(body).containsEntry("errorMessage", "bad input: 7").containsEntry("errorType", "ValidationError")
        .containsEntry("requestId", pending.requestId());
    @SuppressWarnings("unchecked")
    List<String> stack = (List<String>) body.get("stackTrace");
    assertThat(stack).hasSize(2);
    assertThat(stack.get(0)).contains("lambda_function.py\", line 8, in lambda_handler");
    assertThat(stack.get(1)).contains("line 5, in fail").contains("raise ValidationError");
    assertThat(stack).noneMatch(s -> s.contains("bootstrap.py"));
    assertThat(awaitOutput(p, "[ERROR] ValidationError: bad input: 7\rTraceback (most recent call last):"))
        .contains("[ERROR] ValidationError: bad input: 7\rTraceback (most recent call last):");
    // the process goes on
    assertThat(api.invoke("{\"y\":1}").await().body()).contains("\"errorType\": \"KeyError\"");
  }

  @Test
  void unserializableResultIsAMarshalError() throws Exception {
    write("lambda_function.py", """
        import decimal
        def lambda_handler(event, context):
            if event == "decimal":
                return {"price": decimal.Decimal("12.50"), "n": decimal.Decimal("3")}
            if event == "bytes":
                return b"raw bytes"
            return {"s": {1, 2}}
        """);
    start(RUNTIME, "lambda_function.lambda_handler");
    Posted marshal = api.invoke("{}").await();
    assertThat(marshal.kind()).isEqualTo(Kind.ERROR);
    assertThat(json(marshal.body())).containsEntry("errorType", "Runtime.MarshalError")
        .containsEntry("errorMessage", "Unable to marshal response: Object of type set is not JSON serializable");
    assertThat(json(api.invoke("\"decimal\"").await().body())).containsEntry("price", 12.5).containsEntry("n", 3);
    assertThat(api.invoke("\"bytes\"").await().body()).isEqualTo("raw bytes");
  }

  @Test
  void initErrors() throws Exception {
    assertInitError("lambda_function.py", "def lambda_handler(event, context)\n    return 1\n",
        "lambda_function.lambda_handler", "Runtime.UserCodeSyntaxError",
        "Syntax error in module 'lambda_function': expected ':' (lambda_function.py, line 1)");
    assertInitError("lambda_function.py", "x = 1\n", "nothere.lambda_handler", "Runtime.ImportModuleError",
        "Unable to import module 'nothere': No module named 'nothere'");
    assertInitError("lambda_function.py", "import requests_nonexistent\n", "lambda_function.lambda_handler",
        "Runtime.ImportModuleError",
        "Unable to import module 'lambda_function': No module named 'requests_nonexistent'");
    assertInitError("lambda_function.py", "x = 1\n", "lambda_function.lambda_handler", "Runtime.HandlerNotFound",
        "Handler 'lambda_handler' missing on module 'lambda_function'");
    assertInitError("lambda_function.py", "x = 1\n", "lambda_function", "Runtime.MalformedHandlerName",
        "Bad handler 'lambda_function': not enough values to unpack (expected 2, got 1)");
    assertInitError("lambda_function.py", "raise RuntimeError('during init')\n", "lambda_function.handler",
        "RuntimeError", "during init");
    assertInitError("lambda_function.py", "x = 1\n", "sys.handler", "Runtime.BuiltInModuleConflict",
        "Cannot use built-in module sys as a handler module");
  }

  private void assertInitError(String file, String code, String handler, String type, String message)
      throws Exception {
    try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
      RuntimeTestBase.deleteTree(task);
      Files.createDirectories(task);
      write(file, code);
      RuntimeCommand cmd = catalog().command(RUNTIME, handler).orElseThrow()
          .withHostPaths(catalog().runtimeDir(), task);
      Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, task, own);
      env.putAll(cmd.extraEnvironment());
      RuntimeProcess p = track(RuntimeProcess.start(cmd.command(), env, task));
      Posted posted = own.initError().get(20, TimeUnit.SECONDS);
      Map<String, Object> body = json(posted.body());
      assertThat(body).as(handler + ": " + code).containsEntry("errorType", type)
          .containsEntry("errorMessage", message).containsEntry("requestId", "").containsKey("stackTrace");
      assertThat(posted.errorType()).isEqualTo(type);
      assertThat(p.awaitExit(Duration.ofSeconds(10))).isEqualTo(1);
      assertThat(own.nextCalls()).isZero();
    }
  }

  @Test
  void contextFields() throws Exception {
    write("lambda_function.py", """
        import os, time
        def lambda_handler(event, context):
            first = context.get_remaining_time_in_millis()
            time.sleep(0.12)
            cc = context.client_context
            return {
                "first": first, "second": context.get_remaining_time_in_millis(),
                "aws_request_id": context.aws_request_id, "function_name": context.function_name,
                "function_version": context.function_version, "arn": context.invoked_function_arn,
                "memory": context.memory_limit_in_mb, "group": context.log_group_name,
                "stream": context.log_stream_name,
                "custom": cc.custom, "env": cc.env, "installation": cc.client.installation_id,
                "identity_id": context.identity.cognito_identity_id,
                "pool_id": context.identity.cognito_identity_pool_id,
                "trace": os.environ.get("_X_AMZN_TRACE_ID"), "cwd": os.getcwd(),
                "execution_env": os.environ.get("AWS_EXECUTION_ENV"),
            }
        """);
    start(RUNTIME, "lambda_function.lambda_handler");
    var pending = api.invoke(FakeRuntimeApi.Invoke.of("{}").withTimeout(5000)
        .withClientContext("{\"custom\":{\"k\":\"v\"},\"env\":{\"platform\":\"test\"},"
            + "\"client\":{\"installation_id\":\"inst-1\"}}")
        .withCognitoIdentity("{\"cognitoIdentityId\":\"id-1\",\"cognitoIdentityPoolId\":\"pool-1\"}"));
    Map<String, Object> c = json(pending.await().body());
    int first = (Integer) c.get("first");
    int second = (Integer) c.get("second");
    assertThat(first).isBetween(3000, 5000);
    assertThat(second).isLessThanOrEqualTo(first - 100);
    assertThat(c).containsEntry("aws_request_id", pending.requestId())
        .containsEntry("function_name", "test-fn")
        .containsEntry("function_version", "$LATEST")
        .containsEntry("arn", "arn:aws:lambda:us-east-1:123456789012:function:test-fn")
        .containsEntry("memory", "256")
        .containsEntry("group", "/aws/lambda/test-fn")
        .containsEntry("stream", "2026/11/23/[$LATEST]0123456789abcdef")
        .containsEntry("custom", Map.of("k", "v"))
        .containsEntry("env", Map.of("platform", "test"))
        .containsEntry("installation", "inst-1")
        .containsEntry("identity_id", "id-1")
        .containsEntry("pool_id", "pool-1")
        .containsEntry("trace", "Root=1-5e1b4151-5ac6c58f5b5daa6532e4f2e1;Parent=1;Sampled=0")
        .containsEntry("cwd", task.toString())
        .containsEntry("execution_env", "AWS_Lambda_python3.12");
  }

  @Test
  void printIsRawAndLoggingUsesLambdaFormat() throws Exception {
    write("lambda_function.py", """
        import logging
        logger = logging.getLogger()
        logger.setLevel(logging.INFO)
        logger.info("loading")
        def lambda_handler(event, context):
            print("plain print", event)
            logger.info("hello %s", "world")
            logging.getLogger("child").warning("careful")
            logger.debug("hidden")
            return "ok"
        """);
    RuntimeProcess p = start(RUNTIME, "lambda_function.lambda_handler");
    var pending = api.invoke("{\"a\": 1}");
    pending.await();
    String id = pending.requestId();
    String out = awaitOutput(p, "careful");
    String ts = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    assertThat(out.lines().toList())
        .contains("plain print {'a': 1}")
        .anySatisfy(l -> assertThat(l).matches("\\[INFO]\t" + ts + "\t\tloading"))
        .anySatisfy(l -> assertThat(l).matches("\\[INFO]\t" + ts + "\t" + id + "\thello world"))
        .anySatisfy(l -> assertThat(l).matches("\\[WARNING]\t" + ts + "\t" + id + "\tcareful"));
    assertThat(out).doesNotContain("hidden");
  }

  @Test
  void runtimeStartsWithoutImportingLoggingOrHttpClient() throws Exception {
    write("lambda_function.py", """
        import sys
        def lambda_handler(event, context):
            return sorted(m for m in ("logging", "http.client", "email", "site", "traceback") if m in sys.modules)
        """);
    start(RUNTIME, "lambda_function.lambda_handler");
    assertThat(api.invoke("{}").await().body()).isEqualTo("[]");
  }

  @Test
  void sysPathPutsTheTaskRootFirstAndKeepsSystemPackages() throws Exception {
    write("lambda_function.py", """
        import sys
        def lambda_handler(event, context):
            return sys.path
        """);
    start(RUNTIME, "lambda_function.lambda_handler");
    @SuppressWarnings("unchecked")
    List<String> path = (List<String>) jsonValue(api.invoke("{}").await().body());
    assertThat(path.get(0)).isEqualTo(task.toString());
    assertThat(path).noneMatch(p -> p.startsWith(catalog().runtimeDir().toString()));
    assertThat(path).anyMatch(p -> p.endsWith("dist-packages") || p.endsWith("site-packages"));
  }
}
