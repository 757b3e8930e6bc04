package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.kiln.e2e.support.FunctionZip;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.JavaFunctions;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.core.SdkBytes;
import tools.jackson.databind.JsonNode;

/**
 * What goes wrong and how Lambda reports it: function errors (the environment stays warm),
 * timeouts, out-of-memory kills and runtime crashes (the environment is replaced and the next
 * invoke works, cold), init failures (retried on every invoke until the code is fixed), responses
 * over 6 MB and packages without a usable bootstrap.
 */
class InvokeFailuresTest extends InvokeTestBase {
  /** Behaves as event.action says; "ok" returns its environment id and invocation count. */
  private static final String NODE_FAULTY =
      """
      const envId = require('node:crypto').randomUUID();
      let count = 0;
      class QuotaError extends Error {
        constructor(message) { super(message); this.name = 'QuotaError'; }
      }
      exports.handler = async (event) => {
        count++;
        switch (event.action) {
          case 'throw': throw new Error('boom ' + event.id);
          case 'custom': throw new QuotaError('over quota');
          case 'exit': console.log('exiting now'); process.exit(event.code);
          case 'sleep': console.log('sleeping'); await new Promise((r) => setTimeout(r, event.ms)); return 'woke';
          case 'big': return 'x'.repeat(7 * 1024 * 1024);
          case 'oom': {
            const keep = [];
            for (let i = 0; i < 200; i++) keep.push(Buffer.alloc(16 * 1024 * 1024, 1));
            return keep.length;
          }
          default: return { envId, count };
        }
      };
      """;

  private static final String PYTHON_FAULTY =
      """
      import os
      import time
      import uuid

      ENV_ID = str(uuid.uuid4())
      count = 0


      def lambda_handler(event, context):
          global count
          count += 1
          action = event.get("action")
          if action == "raise":
              raise ValueError("bad value %s" % event.get("id"))
          if action == "exit":
              print("exiting now")
              os._exit(event["code"])
          if action == "kill9":
              print("killing myself")
              os.kill(os.getpid(), 9)
          if action == "sleep":
              print("sleeping")
              time.sleep(event["s"])
              return "woke"
          if action == "oom":
              keep = []
              for _ in range(200):
                  keep.append(b"\\x01" * (16 * 1024 * 1024))
              return len(keep)
          if action == "big":
              return "y" * (7 * 1024 * 1024)
          return {"envId": ENV_ID, "count": count}
      """;

  private static final String JAVA_FAULTY =
      """
      package faulty;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.util.Map;
      import java.util.UUID;

      public class Handler implements RequestHandler<Map<String, Object>, Object> {
        static final String ENV_ID = UUID.randomUUID().toString();
        static int count;

        @Override
        public Object handleRequest(Map<String, Object> event, Context context) {
          count++;
          Object action = event.get("action");
          if ("throw".equals(action)) {
            throw new IllegalStateException("illegal " + event.get("id"));
          }
          if ("halt".equals(action)) {
            Runtime.getRuntime().halt(7);
          }
          return Map.of("envId", ENV_ID, "count", count);
        }
      }
      """;

  private String node(int timeoutSeconds, int memory) {
    return deploy(
        "faulty-node",
        "nodejs22.x",
        "index.handler",
        Functions.node(NODE_FAULTY),
        b -> b.timeout(timeoutSeconds).memorySize(memory));
  }

  private String python(int timeoutSeconds, int memory) {
    return deploy(
        "faulty-py",
        "python3.12",
        "lambda_function.lambda_handler",
        Functions.python(PYTHON_FAULTY),
        b -> b.timeout(timeoutSeconds).memorySize(memory));
  }

  @Test
  void function_errors_are_unhandled_and_keep_the_environment_warm() {
    String node = node(10, 256);
    JsonNode warmUp = invoke(node, "{}").ok();

    Invocation thrown = invoke(node, "{\"action\":\"throw\",\"id\":7}");
    JsonNode error = thrown.unhandled("Error");
    assertThat(error.path("errorMessage").asString()).isEqualTo("boom 7");
    assertThat(error.path("trace").isArray()).as("trace of %s", error).isTrue();
    assertThat(error.path("trace").get(0).asString()).startsWith("Error: boom 7");
    assertThat(thrown.log()).contains("boom 7");
    thrown.assertLog(false);
    assertThat(invoke(node, "{\"action\":\"custom\"}").unhandled("QuotaError").path("errorMessage").asString())
        .isEqualTo("over quota");
    JsonNode after = invoke(node, "{}").ok();
    assertThat(after.path("envId").asString()).as("same environment after errors").isEqualTo(warmUp.path("envId").asString());
    assertThat(after.path("count").asInt()).isEqualTo(4);

    String python = python(10, 256);
    JsonNode pyWarm = invoke(python, "{}").ok();
    // The CLI reports a function error in FunctionError and still exits 0.
    Invocation raised = cliInvoke(python, "{\"action\":\"raise\",\"id\":3}", "--log-type", "Tail");
    JsonNode pyError = raised.unhandled("ValueError");
    assertThat(pyError.path("errorMessage").asString()).isEqualTo("bad value 3");
    assertThat(pyError.path("stackTrace").isArray()).isTrue();
    assertThat(raised.log()).contains("[ERROR] ValueError: bad value 3");
    assertThat(invoke(python, "{}").ok().path("envId").asString()).isEqualTo(pyWarm.path("envId").asString());

    String java =
        deploy(
            "faulty-java",
            "java21",
            "faulty.Handler",
            JavaFunctions.fatJar(JavaFunctions.compile(Map.of("faulty/Handler.java", JAVA_FAULTY), 21)),
            b -> b.memorySize(512));
    JsonNode javaWarm = invoke(java, "{}").ok();
    JsonNode javaError = invoke(java, "{\"action\":\"throw\",\"id\":5}").unhandled("java.lang.IllegalStateException");
    assertThat(javaError.path("errorMessage").asString()).isEqualTo("illegal 5");
    assertThat(javaError.path("stackTrace").get(0).asString()).startsWith("faulty.Handler.handleRequest(");
    assertThat(invoke(java, "{}").ok().path("envId").asString()).isEqualTo(javaWarm.path("envId").asString());
  }

  @Test
  void a_timeout_kills_the_environment_and_the_next_invoke_starts_cold() {
    String node = node(1, 256);
    JsonNode before = invoke(node, "{}").ok();
    long started = System.nanoTime();
    Invocation timedOut = invoke(node, "{\"action\":\"sleep\",\"ms\":4000}");
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    JsonNode error = timedOut.unhandled("Sandbox.Timedout");
    assertThat(error.path("errorMessage").asString())
        .isEqualTo("RequestId: " + timedOut.requestId() + " Error: Task timed out after 1.00 seconds");
    assertThat(tookMs).as("answered at the timeout, not when the handler would end").isBetween(900L, 3500L);
    assertThat(timedOut.log()).contains("sleeping").contains("Task timed out after 1.00 seconds");
    timedOut.assertLog(false);

    Invocation next = invoke(node, "{}");
    JsonNode fresh = next.ok();
    assertThat(fresh.path("envId").asString()).as("a new environment").isNotEqualTo(before.path("envId").asString());
    assertThat(fresh.path("count").asInt()).isEqualTo(1);
    next.assertLog(true);

    // Python, through the CLI.
    String python = python(1, 256);
    Invocation pyTimeout = cliInvoke(python, "{\"action\":\"sleep\",\"s\":5}", "--log-type", "Tail");
    assertThat(pyTimeout.unhandled("Sandbox.Timedout").path("errorMessage").asString())
        .matches("RequestId: [0-9a-f-]{36} Error: Task timed out after 1\\.00 seconds");
    assertThat(cliInvoke(python, "{}").json().path("count").asInt()).isEqualTo(1);
  }

  @Test
  void exceeding_the_memory_size_is_runtime_out_of_memory() {
    String python = python(20, 128);
    JsonNode before = invoke(python, "{}").ok();
    Invocation oom = invoke(python, "{\"action\":\"oom\"}");
    JsonNode error = oom.unhandled("Runtime.OutOfMemory");
    assertThat(error.path("errorMessage").asString())
        .isEqualTo("RequestId: " + oom.requestId() + " Error: Runtime exited with error: signal: killed");
    oom.assertLog(false);
    JsonNode after = invoke(python, "{}").ok();
    assertThat(after.path("envId").asString()).isNotEqualTo(before.path("envId").asString());

    String node = node(20, 128);
    invoke(node, "{}").ok();
    invoke(node, "{\"action\":\"oom\"}").unhandled("Runtime.OutOfMemory");
    assertThat(invoke(node, "{}").ok().path("count").asInt()).isEqualTo(1);
  }

  @Test
  void a_crashing_runtime_is_runtime_exit_error_and_the_next_invoke_works() {
    String node = node(10, 256);
    invoke(node, "{}").ok();
    Invocation exit = invoke(node, "{\"action\":\"exit\",\"code\":1}");
    assertThat(exit.unhandled("Runtime.ExitError").path("errorMessage").asString())
        .isEqualTo("RequestId: " + exit.requestId() + " Error: Runtime exited with error: exit status 1");
    assertThat(exit.log()).contains("exiting now");
    Invocation nodeNext = invoke(node, "{}");
    assertThat(nodeNext.ok().path("count").asInt()).isEqualTo(1);
    nodeNext.assertLog(true);

    String python = python(10, 256);
    Invocation pyExit = invoke(python, "{\"action\":\"exit\",\"code\":3}");
    assertThat(pyExit.unhandled("Runtime.ExitError").path("errorMessage").asString())
        .isEqualTo("RequestId: " + pyExit.requestId() + " Error: Runtime exited with error: exit status 3");
    assertThat(invoke(python, "{}").ok().path("count").asInt()).isEqualTo(1);

    String java =
        deploy(
            "halting-java",
            "java25",
            "faulty.Handler",
            JavaFunctions.zipWithLib(JavaFunctions.compile(Map.of("faulty/Handler.java", JAVA_FAULTY), 25)),
            b -> b.memorySize(512));
    Invocation halted = invoke(java, "{\"action\":\"halt\"}");
    assertThat(halted.unhandled("Runtime.ExitError").path("errorMessage").asString())
        .endsWith("Error: Runtime exited with error: exit status 7");
    assertThat(invoke(java, "{}").ok().path("count").asInt()).isEqualTo(1);
  }

  /** kill -9 of the runtime from inside the function is a crash, not an out-of-memory kill. */
  @Test
  void a_runtime_killed_from_inside_is_runtime_exit_error() {
    String python = python(10, 256);
    JsonNode before = invoke(python, "{}").ok();
    Invocation killed = invoke(python, "{\"action\":\"kill9\"}");
    assertThat(killed.unhandled("Runtime.ExitError").path("errorMessage").asString())
        .isEqualTo("RequestId: " + killed.requestId() + " Error: Runtime exited with error: signal: killed");
    JsonNode after = invoke(python, "{}").ok();
    assertThat(after.path("count").asInt()).isEqualTo(1);
    assertThat(after.path("envId").asString()).isNotEqualTo(before.path("envId").asString());
  }

  static Stream<Arguments> initFailures() {
    return Stream.of(
        arguments(
            "node syntax error",
            "nodejs22.x",
            "index.handler",
            (Supplier<byte[]>) () -> Functions.node("exports.handler = async (event => {\n"),
            "Runtime.UserCodeSyntaxError"),
        arguments(
            "node missing module",
            "nodejs22.x",
            "index.handler",
            (Supplier<byte[]>)
                () -> Functions.node("const pad = require('left-pad-is-not-here');\nexports.handler = async () => 1;\n"),
            "Runtime.ImportModuleError"),
        arguments(
            "node missing file",
            "nodejs20.x",
            "app.handler",
            (Supplier<byte[]>) () -> Functions.node("exports.handler = async () => 1;\n"),
            "Runtime.ImportModuleError"),
        arguments(
            "node handler not exported",
            "nodejs22.x",
            "index.nothere",
            (Supplier<byte[]>) () -> Functions.node("exports.handler = async () => 1;\n"),
            "Runtime.HandlerNotFound"),
        arguments(
            "node throws at init",
            "nodejs22.x",
            "index.handler",
            (Supplier<byte[]>) () -> Functions.node("throw new TypeError('init went wrong');\n"),
            "TypeError"),
        arguments(
            "python syntax error",
            "python3.12",
            "lambda_function.lambda_handler",
            (Supplier<byte[]>) () -> Functions.python("def lambda_handler(event, context)\n    return 1\n"),
            "Runtime.UserCodeSyntaxError"),
        arguments(
            "python missing module",
            "python3.13",
            "lambda_function.lambda_handler",
            (Supplier<byte[]>)
                () -> Functions.python("import not_installed_anywhere\n\ndef lambda_handler(e, c):\n    return 1\n"),
            "Runtime.ImportModuleError"),
        arguments(
            "python handler missing",
            "python3.11",
            "lambda_function.nothere",
            (Supplier<byte[]>) () -> Functions.python("def lambda_handler(e, c):\n    return 1\n"),
            "Runtime.HandlerNotFound"),
        arguments(
            "python raises at init",
            "python3.12",
            "lambda_function.lambda_handler",
            (Supplier<byte[]>) () -> Functions.python("raise RuntimeError('init went wrong')\n"),
            "RuntimeError"),
        arguments(
            "java class not found",
            "java21",
            "nope.Missing::handleRequest",
            (Supplier<byte[]>) () -> JavaFunctions.zipWithLib(Functions.javaEchoClasses(21)),
            "java.lang.ClassNotFoundException"),
        arguments(
            "provided without bootstrap",
            "provided.al2023",
            "x",
            (Supplier<byte[]>) () -> FunctionZip.create().file("README", "no bootstrap here").bytes(),
            "Runtime.InvalidEntrypoint"),
        arguments(
            "provided bootstrap not executable",
            "provided.al2023",
            "x",
            (Supplier<byte[]>) () -> FunctionZip.create().file("bootstrap", "#!/bin/sh\nexit 0\n").bytes(),
            "Runtime.InvalidEntrypoint"),
        arguments(
            "provided bootstrap exits at init",
            "provided",
            "x",
            (Supplier<byte[]>)
                () -> FunctionZip.create().executable("bootstrap", "#!/bin/sh\necho 'giving up'\nexit 2\n").bytes(),
            "Runtime.ExitError"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("initFailures")
  void init_failures_are_reported_on_every_invoke_until_the_code_is_fixed(
      String label, String runtime, String handler, Supplier<byte[]> code, String errorType) {
    String name = deploy("init-fail", runtime, handler, code.get());
    for (int attempt = 1; attempt <= 2; attempt++) {
      Invocation failed = invoke(name, "{}");
      JsonNode error = failed.unhandled(errorType);
      assertThat(error.path("errorMessage").asString()).as("%s attempt %d: %s", label, attempt, error).isNotBlank();
      if (errorType.equals("Runtime.InvalidEntrypoint")) {
        assertThat(error.path("errorMessage").asString()).contains("bootstrap");
      } else if (errorType.equals("Runtime.ExitError")) {
        assertThat(error.path("errorMessage").asString()).contains("Runtime exited with error: exit status 2");
        assertThat(failed.log()).as("attempt %d ran the bootstrap again", attempt).contains("giving up");
      } else {
        // Init ran again for this invoke: the runtime logged the init error once more.
        assertThat(failed.log()).as("%s attempt %d log", label, attempt).contains(errorType);
      }
    }

    // Fixed code: the next invoke works.
    byte[] fixed =
        switch (runtime.replaceAll("[0-9.x]+$", "")) {
          case "nodejs" -> Functions.node("exports." + handler.substring(handler.indexOf('.') + 1) + " = async () => 'fixed';\n");
          case "python" ->
              Functions.python("def " + handler.substring(handler.indexOf('.') + 1) + "(e, c):\n    return 'fixed'\n");
          case "java" -> null;
          default -> FunctionZip.create().executable("bootstrap", Functions.SHELL_BOOTSTRAP).bytes();
        };
    if (fixed == null) {
      lambda.updateFunctionConfiguration(b -> b.functionName(name).handler("echo.Handler"));
    } else {
      if (runtime.startsWith("nodejs") && handler.startsWith("app.")) {
        fixed = FunctionZip.create().file("app.js", "exports.handler = async () => 'fixed';\n").bytes();
      }
      byte[] update = fixed;
      lambda.updateFunctionCode(b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(update)));
    }
    awaitUpdated(name);
    Invocation ok = invoke(name, "{\"after\":\"fix\"}");
    JsonNode result = ok.ok();
    if (runtime.startsWith("provided") || runtime.startsWith("java")) {
      assertThat(result.path("event").path("after").asString()).isEqualTo("fix");
    } else {
      assertThat(result.asString()).isEqualTo("fixed");
    }
  }

  @Test
  void a_response_over_6_mb_is_function_response_size_too_large() {
    String node = node(10, 512);
    Invocation big = invoke(node, "{\"action\":\"big\"}");
    JsonNode error = big.unhandled("Function.ResponseSizeTooLarge");
    assertThat(error.path("errorMessage").asString())
        .startsWith("Response payload size exceeded maximum allowed payload size");
    assertThat(invoke(node, "{}").ok().path("count").asInt()).isPositive();

    String python = python(10, 512);
    Invocation pyBig = cliInvoke(python, "{\"action\":\"big\"}");
    pyBig.unhandled("Function.ResponseSizeTooLarge");
    assertThat(invoke(python, "{}").ok().path("count").asInt()).isPositive();
  }
}
