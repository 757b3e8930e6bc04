package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.kiln.e2e.support.FunctionZip;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.JavaFunctions;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * Every runtime Kiln offers, each with a function that returns its event and context: the first
 * invoke is cold (Init Duration in the REPORT line, the init output in the log), the second warm in
 * the same environment (module-level counter at 2). Handler styles per language (Node ESM and
 * callbacks, Java stream handlers, Class::method and POJOs) and AWS's own Java runtime interface
 * client as a provided.al2023 bootstrap.
 */
class InvokeRuntimesTest extends InvokeTestBase {
  private static final String CLIENT_CONTEXT =
      "{\"client\":{\"installation_id\":\"inst-1\",\"app_title\":\"e2e\"},\"custom\":{\"tenant\":\"t-1\",\"n\":\"7\"},"
          + "\"env\":{\"platform\":\"kiln\"}}";

  static Stream<Arguments> runtimes() {
    return Stream.of(
        arguments("nodejs20.x", "index.handler", (Supplier<byte[]>) Functions::nodeEcho),
        arguments("nodejs22.x", "index.handler", (Supplier<byte[]>) Functions::nodeEcho),
        arguments("python3.11", "lambda_function.lambda_handler", (Supplier<byte[]>) Functions::pythonEcho),
        arguments("python3.12", "lambda_function.lambda_handler", (Supplier<byte[]>) Functions::pythonEcho),
        arguments("python3.13", "lambda_function.lambda_handler", (Supplier<byte[]>) Functions::pythonEcho),
        // java21: classes at the root and the library in lib/; java25: a shaded fat jar.
        arguments(
            "java21",
            "echo.Handler",
            (Supplier<byte[]>) () -> JavaFunctions.zipWithLib(Functions.javaEchoClasses(21))),
        arguments(
            "java25",
            "echo.Handler::handleRequest",
            (Supplier<byte[]>) () -> JavaFunctions.fatJar(Functions.javaEchoClasses(25))),
        arguments("provided.al2023", "not.used", (Supplier<byte[]>) Functions::shellEcho),
        arguments("provided", "not.used", (Supplier<byte[]>) Functions::shellEcho));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("runtimes")
  void each_runtime_returns_its_event_and_context_cold_then_warm(
      String runtime, String handler, Supplier<byte[]> code) {
    boolean provided = runtime.startsWith("provided");
    String name =
        deploy(
            "rt-" + runtime.replace('.', '-'),
            runtime,
            handler,
            code.get(),
            // plain boots: a snapshot restore has no init output of its own (SnapshotsTest covers restores)
            b -> b.environment(e -> e.variables(Map.of("GREETING", "hi from env", "KILN_SNAPSHOT", "off"))));
    String event =
        "{\"n\":1,\"text\":\"h\\u00e9llo \\\"quoted\\\"\",\"nested\":{\"list\":[1,2.5,true,null]},\"runtime\":\""
            + runtime
            + "\"}";

    Invocation cold = invoke(name, event, b -> b.clientContext(clientContext(CLIENT_CONTEXT)));
    JsonNode first = cold.ok();
    assertThat(cold.executedVersion()).isEqualTo("$LATEST");
    assertThat(first.path("event")).as("event echoed by %s", runtime).isEqualTo(json(event));
    assertThat(first.path("functionName").asString()).isEqualTo(name);
    assertThat(first.path("functionVersion").asString()).isEqualTo("$LATEST");
    assertThat(first.path("invokedFunctionArn").asString()).isEqualTo(arn(name));
    assertThat(first.path("awsRequestId").asString()).isEqualTo(cold.requestId());
    assertThat(first.path("memoryLimitInMB").asString()).isEqualTo("256");
    assertThat(first.path("remainingMs").asLong()).as("remaining time").isBetween(1L, 10_000L);
    assertThat(first.path("logGroupName").asString()).isEqualTo("/aws/lambda/" + name);
    assertThat(first.path("logStreamName").asString())
        .matches("\\d{4}/\\d{2}/\\d{2}/\\[\\$LATEST\\][0-9a-f]{32}");
    JsonNode custom =
        provided ? first.path("clientContext").path("custom") : first.path("clientCustom");
    assertThat(custom).as("clientContext.custom seen by %s", runtime).isEqualTo(json("{\"tenant\":\"t-1\",\"n\":\"7\"}"));
    assertThat(first.path("count").asInt()).isEqualTo(1);
    assertThat(first.path("handler").asString()).isEqualTo(handler);
    assertThat(first.path("taskRoot").asString()).isEqualTo("/var/task");
    assertThat(first.path("runtimeApi").asString()).isEqualTo("127.0.0.1:9001");
    assertThat(first.path("region").asString()).isEqualTo(REGION);
    assertThat(first.path("user").asString()).as("user environment variable").isEqualTo("hi from env");
    Invocation warm = invoke(name, "{\"second\":true}");
    JsonNode second = warm.ok();
    assertThat(second.path("count").asInt()).as("module state survives in a warm environment").isEqualTo(2);
    assertThat(second.path("envId").asString()).isEqualTo(first.path("envId").asString());
    assertThat(second.path("event")).isEqualTo(json("{\"second\":true}"));
    assertThat(second.path("awsRequestId").asString())
        .isEqualTo(warm.requestId())
        .isNotEqualTo(cold.requestId());
    JsonNode noContext = provided ? second.path("clientContext") : second.path("clientCustom");
    assertThat(noContext.isNull() || noContext.isMissingNode()).as("no client context: %s", second).isTrue();

    // The logs: START, the handler's line, END, REPORT; Init Duration and init output on the cold one.
    cold.assertLog(true, "echo-line count=1");
    assertThat(cold.log()).as("init output in the cold start's log").contains("init-line");
    warm.assertLog(false, "echo-line count=2");
    assertThat(warm.log()).doesNotContain("init-line");
    if (runtime.startsWith("java")) {
      assertThat(warm.log()).contains("logger-line via LambdaLogger");
    }

    if (provided) {
      // Lambda leaves AWS_EXECUTION_ENV unset for OS-only runtimes (the provided family).
      assertThat(first.path("executionEnv").isNull()).as("AWS_EXECUTION_ENV for %s: %s", runtime, first).isTrue();
    } else {
      assertThat(first.path("executionEnv").asString()).isEqualTo("AWS_Lambda_" + runtime);
    }
  }

  @Test
  void node_handlers_as_es_modules_callbacks_and_nested_paths() {
    String esm =
        deploy(
            "node-esm",
            "nodejs22.x",
            "index.handler",
            FunctionZip.create()
                .file(
                    "index.mjs",
                    "import { sep } from 'node:path';\n"
                        + "export const handler = async (event) => ({ esm: true, sep, got: event.x });\n")
                .bytes());
    assertThat(invoke(esm, "{\"x\":41}").ok()).isEqualTo(json("{\"esm\":true,\"sep\":\"/\",\"got\":41}"));

    String typeModule =
        deploy(
            "node-type-module",
            "nodejs20.x",
            "src/app.main",
            FunctionZip.create()
                .file("package.json", "{\"type\":\"module\"}")
                .file("src/app.js", "export async function main(event) { return { typeModule: event.x * 2 }; }\n")
                .bytes());
    assertThat(invoke(typeModule, "{\"x\":21}").ok()).isEqualTo(json("{\"typeModule\":42}"));

    String callback =
        deploy(
            "node-callback",
            "nodejs22.x",
            "index.handler",
            Functions.node(
                "exports.handler = (event, context, callback) => {\n"
                    + "  setTimeout(() => callback(null, { callback: event.x, id: context.awsRequestId }), 20);\n"
                    + "};\n"));
    Invocation cb = invoke(callback, "{\"x\":\"yes\"}");
    assertThat(cb.ok().path("callback").asString()).isEqualTo("yes");
    assertThat(cb.ok().path("id").asString()).isEqualTo(cb.requestId());

    // The CLI, for once, on a plain value payload and result.
    Invocation viaCli = cliInvoke(callback, "{\"x\":[1,2]}", "--log-type", "Tail");
    assertThat(viaCli.status()).isEqualTo(200);
    assertThat(viaCli.json().path("callback")).isEqualTo(json("[1,2]"));
    viaCli.assertLog(false);
  }

  @Test
  void java_stream_handlers_pojos_and_class_method_handlers() {
    String sources =
        """
        package styles;

        import com.amazonaws.services.lambda.runtime.Context;
        import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
        import java.io.IOException;
        import java.io.InputStream;
        import java.io.OutputStream;
        import java.nio.charset.StandardCharsets;

        public class Upper implements RequestStreamHandler {
          @Override
          public void handleRequest(InputStream in, OutputStream out, Context context) throws IOException {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            System.out.println("stream-handler got " + text.length() + " bytes");
            out.write(text.toUpperCase().getBytes(StandardCharsets.UTF_8));
          }
        }
        """;
    String pojo =
        """
        package styles;

        import com.amazonaws.services.lambda.runtime.Context;

        public class Greeter {
          public static class Request {
            private String name;
            private int times;
            public String getName() { return name; }
            public void setName(String name) { this.name = name; }
            public int getTimes() { return times; }
            public void setTimes(int times) { this.times = times; }
          }

          public static class Reply {
            private String message;
            private String requestId;
            public String getMessage() { return message; }
            public void setMessage(String message) { this.message = message; }
            public String getRequestId() { return requestId; }
            public void setRequestId(String requestId) { this.requestId = requestId; }
          }

          public Reply greet(Request request, Context context) {
            Reply reply = new Reply();
            reply.setMessage("hello " + request.getName().repeat(request.getTimes()));
            reply.setRequestId(context.getAwsRequestId());
            return reply;
          }

          public String shout(String input) {
            return input.toUpperCase() + "!";
          }
        }
        """;
    Map<String, byte[]> classes =
        JavaFunctions.compile(Map.of("styles/Upper.java", sources, "styles/Greeter.java", pojo), 21);
    byte[] jar = JavaFunctions.fatJar(classes);

    String upper = deploy("java-stream", "java21", "styles.Upper", jar, b -> b.memorySize(512));
    Invocation up = invoke(upper, "{\"shout\":\"quiet please\"}");
    assertThat(up.ok()).isEqualTo(json("{\"SHOUT\":\"QUIET PLEASE\"}"));

    String greet = deploy("java-pojo", "java21", "styles.Greeter::greet", jar, b -> b.memorySize(512));
    Invocation hello = invoke(greet, "{\"name\":\"ab\",\"times\":3}");
    JsonNode reply = hello.ok();
    assertThat(reply.path("message").asString()).isEqualTo("hello ababab");
    assertThat(reply.path("requestId").asString()).isEqualTo(hello.requestId());

    String shout = deploy("java-string", "java25", "styles.Greeter::shout", jar, b -> b.memorySize(512));
    assertThat(invoke(shout, "\"hey\"").ok().asString()).isEqualTo("HEY!");
    assertThat(up.log()).contains("stream-handler got 24 bytes");
  }

  /**
   * AWS's official Java runtime interface client as the bootstrap of a provided.al2023 function,
   * unchanged: proof that Kiln's Runtime API is the real one.
   */
  @Test
  void official_java_runtime_interface_client_runs_as_a_provided_bootstrap() {
    String handlerSource =
        """
        package ric;

        import com.amazonaws.services.lambda.runtime.Context;
        import com.amazonaws.services.lambda.runtime.RequestHandler;
        import java.util.LinkedHashMap;
        import java.util.Map;

        public class Hello implements RequestHandler<Map<String, Object>, Map<String, Object>> {
          static int count;

          @Override
          public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
            count++;
            System.out.println("ric-line " + count);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("hello", event.get("name"));
            out.put("count", count);
            out.put("requestId", context.getAwsRequestId());
            out.put("arn", context.getInvokedFunctionArn());
            out.put("remaining", context.getRemainingTimeInMillis());
            return out;
          }
        }
        """;
    byte[] handlerJar = JavaFunctions.jar(JavaFunctions.compile(Map.of("ric/Hello.java", handlerSource), 21));
    Path ric = JavaFunctions.jarOf(com.amazonaws.services.lambda.runtime.api.client.AWSLambda.class);
    Path serialization =
        JavaFunctions.jarOf(com.amazonaws.services.lambda.runtime.serialization.PojoSerializer.class);
    Path utilsLite = JavaFunctions.jarOf(software.amazon.awssdk.utilslite.SdkInternalThreadLocal.class);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Map<String, Path> libs = new TreeMap<>();
    libs.put("lib/" + ric.getFileName(), ric);
    libs.put("lib/" + serialization.getFileName(), serialization);
    libs.put("lib/" + utilsLite.getFileName(), utilsLite);
    libs.put("lib/" + JavaFunctions.coreJar().getFileName(), JavaFunctions.coreJar());
    FunctionZip zip =
        FunctionZip.create()
            .executable(
                "bootstrap",
                "#!/bin/sh\nexec "
                    + java
                    + " -cp '/var/task/lib/*' com.amazonaws.services.lambda.runtime.api.client.AWSLambda \"$_HANDLER\"\n")
            .file("lib/hello.jar", handlerJar);
    libs.forEach(zip::copy);

    String name = deploy("ric", "provided.al2023", "ric.Hello::handleRequest", zip.bytes(), b -> b.memorySize(512));
    Invocation cold = invoke(name, "{\"name\":\"official\"}");
    JsonNode first = cold.ok();
    assertThat(first.path("hello").asString()).isEqualTo("official");
    assertThat(first.path("count").asInt()).isEqualTo(1);
    assertThat(first.path("requestId").asString()).isEqualTo(cold.requestId());
    assertThat(first.path("arn").asString()).isEqualTo(arn(name));
    assertThat(first.path("remaining").asLong()).isBetween(1L, 10_000L);

    Invocation warm = invoke(name, "{\"name\":\"again\"}");
    assertThat(warm.ok().path("count").asInt()).isEqualTo(2);
    cold.assertLog(true, "ric-line 1");
    warm.assertLog(false, "ric-line 2");
  }
}
