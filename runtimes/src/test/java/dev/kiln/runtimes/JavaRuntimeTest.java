package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.runtimes.FakeRuntimeApi.Kind;
import dev.kiln.runtimes.FakeRuntimeApi.Posted;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Java bootstrap (module runtime-java), run as a real JVM against the test Runtime API. */
class JavaRuntimeTest extends RuntimeTestBase {
  static final String RUNTIME = "java25";
  static final String FN = "dev.kiln.runtimes.fn.";

  @BeforeAll
  static void javaAvailable() {
    assumeTrue(catalog().supported().contains(RUNTIME), "no java runtime");
  }

  @Test
  void requestHandlerWithPojosKeepsStateBetweenInvocations() throws Exception {
    JavaFunctions.classesWithLib(task);
    start(RUNTIME, FN + "HelloPojo");
    for (int i = 1; i <= 3; i++) {
      var pending = api.invoke("{\"NAME\":\"kiln\",\"times\":" + i + ",\"address\":{\"City\":\"Lyon\"},\"extra\":true}");
      Posted posted = pending.await();
      assertThat(posted.kind()).as(posted.body()).isEqualTo(Kind.RESPONSE);
      assertThat(json(posted.body())).isEqualTo(Map.of(
          "message", "hello " + "kiln".repeat(i) + " from Lyon", "count", i, "requestId", pending.requestId()));
    }
    assertThat(api.connections()).as("one keep-alive connection").isEqualTo(1);
  }

  @Test
  void mapToStringHandler() throws Exception {
    JavaFunctions.classesWithLib(task);
    start(RUNTIME, FN + "HelloMap");
    assertThat(api.invoke("{\"name\":\"world\"}").await().body()).isEqualTo("\"hello world\"");
  }

  @Test
  void requestStreamHandler() throws Exception {
    JavaFunctions.classesWithLib(task);
    start(RUNTIME, FN + "Echo");
    var pending = api.invoke("{\"any\":[1,2,\"three\"]}");
    assertThat(json(pending.await().body()))
        .isEqualTo(Map.of("raw", Map.of("any", List.of(1, 2, "three")), "id", pending.requestId()));
  }

  @Test
  void classMethodHandlers() throws Exception {
    JavaFunctions.classesWithLib(task);
    assertThat(invokeOnce(FN + "Methods::shout", "\"quiet\"").body()).isEqualTo("\"QUIET\"");
    assertThat(invokeOnce(FN + "Methods::overloaded", "\"x\"").body()).isEqualTo("\"with context\"");
    assertThat(invokeOnce(FN + "Methods::copy", "{\"copied\":true}").body()).isEqualTo("{\"copied\":true}");
    assertThat(invokeOnce(FN + "Methods::nothing", "{}").body()).isEmpty();
    assertThat(jsonValue(invokeOnce(FN + "Methods::pojoList", "[{\"name\":\"a\",\"times\":2}]").body()))
        .isEqualTo(List.of(Map.of("name", "a", "times", 2)));

    start(RUNTIME, FN + "Methods::describe");
    assertThat(json(api.invoke("{\"a\":1}").await().body()))
        .isEqualTo(Map.of("a", 1, "calls", 1, "function", "test-fn"));
    assertThat(json(api.invoke("{\"a\":2}").await().body())).containsEntry("calls", 2);
  }

  private Posted invokeOnce(String handler, String event) throws Exception {
    try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
      RuntimeCommand cmd = catalog().command(RUNTIME, handler).orElseThrow()
          .withHostPaths(catalog().runtimeDir(), task);
      Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, task, own);
      env.putAll(cmd.extraEnvironment());
      RuntimeProcess p = track(RuntimeProcess.start(cmd.command(), env, task));
      Posted posted = own.invoke(event).await();
      assertThat(posted.kind()).as(handler + ": " + posted.body() + "\n" + p.output()).isEqualTo(Kind.RESPONSE);
      return posted;
    }
  }

  @Test
  void sqsEventFromAFatJar() throws Exception {
    JavaFunctions.fatJar(task);
    start(RUNTIME, FN + "SqsHandler");
    String event = """
        {"Records":[{"messageId":"059f36b4-87a3-44ab-83d2-661975830a7d",
          "receiptHandle":"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...","body":"test message",
          "attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1545082649183",
            "SenderId":"AIDAIENQZJOLO23YVJ4VO","ApproximateFirstReceiveTimestamp":"1545082649185"},
          "messageAttributes":{"color":{"stringValue":"blue","stringListValues":[],"binaryListValues":[],
            "dataType":"String"}},
          "md5OfBody":"e4e68fb7bd0e697a0ae8f1bb342846b3","eventSource":"aws:sqs",
          "eventSourceARN":"arn:aws:sqs:us-east-2:123456789012:my-queue","awsRegion":"us-east-2"}]}
        """;
    Posted posted = api.invoke(event).await();
    assertThat(posted.kind()).as(posted.body()).isEqualTo(Kind.RESPONSE);
    assertThat(jsonValue(posted.body())).isEqualTo(List.of(
        "059f36b4-87a3-44ab-83d2-661975830a7d|test message|arn:aws:sqs:us-east-2:123456789012:my-queue|us-east-2|1|blue"));
  }

  @Test
  void scheduledEventAndApiGatewayEventsFromClassesWithLib() throws Exception {
    JavaFunctions.classesWithLib(task);
    start(RUNTIME, FN + "ScheduledHandler");
    String scheduled = """
        {"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
         "source":"aws.events","account":"123456789012","time":"2015-10-08T16:53:06Z","region":"us-east-1",
         "resources":["arn:aws:events:us-east-1:123456789012:rule/my-schedule"],"detail":{"k":"v"}}
        """;
    Posted posted = api.invoke(scheduled).await();
    assertThat(posted.kind()).as(posted.body()).isEqualTo(Kind.RESPONSE);
    assertThat(json(posted.body())).isEqualTo(Map.of("detailType", "Scheduled Event", "source", "aws.events",
        "account", "123456789012", "year", 2015,
        "resources", List.of("arn:aws:events:us-east-1:123456789012:rule/my-schedule"), "detail", Map.of("k", "v")));

    try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
      String handler = FN + "ApiHandler";
      RuntimeCommand cmd = catalog().command(RUNTIME, handler).orElseThrow()
          .withHostPaths(catalog().runtimeDir(), task);
      Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, task, own);
      env.putAll(cmd.extraEnvironment());
      track(RuntimeProcess.start(cmd.command(), env, task));
      String request = """
          {"resource":"/{proxy+}","path":"/hello/world","httpMethod":"POST",
           "headers":{"Accept":"*/*","Content-Type":"application/json"},
           "multiValueHeaders":{"Accept":["*/*"]},"queryStringParameters":{"name":"me"},
           "multiValueQueryStringParameters":{"name":["me"]},"pathParameters":{"proxy":"hello/world"},
           "stageVariables":null,
           "requestContext":{"accountId":"123456789012","resourceId":"123456","stage":"prod",
             "requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","requestTimeEpoch":1428582896000,
             "identity":{"sourceIp":"127.0.0.1","userAgent":"Custom User Agent String"},
             "resourcePath":"/{proxy+}","httpMethod":"POST","apiId":"1234567890","protocol":"HTTP/1.1"},
           "body":"{\\"a\\":1}","isBase64Encoded":false}
          """;
      Posted response = own.invoke(request).await();
      assertThat(response.kind()).as(response.body()).isEqualTo(Kind.RESPONSE);
      assertThat(json(response.body())).isEqualTo(Map.of("statusCode", 201,
          "headers", Map.of("Content-Type", "text/plain"),
          "body", "POST /hello/world {name=me} 127.0.0.1 {\"a\":1}"));
    }
  }

  @Test
  void handledErrorShape() throws Exception {
    JavaFunctions.classesWithLib(task);
    RuntimeProcess p = start(RUNTIME, FN + "Failing");
    Posted posted = api.invoke("{\"fail\":true,\"id\":7}").await();
    assertThat(posted.kind()).isEqualTo(Kind.ERROR);
    assertThat(posted.errorType()).isEqualTo("Runtime.UserException");
    Map<String, Object> body = json(posted.body());
    assertThat(body).containsEntry("errorMessage", "invalid event 7")
        .containsEntry("errorType", "java.lang.IllegalStateException");
    @SuppressWarnings("unchecked")
    List<String> stack = (List<String>) body.get("stackTrace");
    assertThat(stack).containsExactly(
        "dev.kiln.runtimes.fn.Failing.validate(Failing.java:18)",
        "dev.kiln.runtimes.fn.Failing.handleRequest(Failing.java:12)",
        "dev.kiln.runtimes.fn.Failing.handleRequest(Failing.java:8)"); // the generic bridge method
    assertThat(awaitOutput(p, "invalid event 7: java.lang.IllegalStateException"))
        .contains("invalid event 7: java.lang.IllegalStateException");
    // the process goes on
    assertThat(api.invoke("{}").await().body()).isEqualTo("\"fine\"");

    // from a Class::method handler, without the reflection frames
    try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
      String handler = FN + "Methods::fail";
      RuntimeCommand cmd = catalog().command(RUNTIME, handler).orElseThrow()
          .withHostPaths(catalog().runtimeDir(), task);
      Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, task, own);
      env.putAll(cmd.extraEnvironment());
      track(RuntimeProcess.start(cmd.command(), env, task));
      Map<String, Object> error = json(own.invoke("{\"state\":\"bad\"}").await().body());
      assertThat(error).containsEntry("errorMessage", "state is bad");
      assertThat(error.get("stackTrace")).isEqualTo(List.of(
          "dev.kiln.runtimes.fn.Methods$Helper.check(Methods.java:53)",
          "dev.kiln.runtimes.fn.Methods.fail(Methods.java:48)"));
    }
  }

  @Test
  void malformedEventIsAnInvocationError() throws Exception {
    JavaFunctions.classesWithLib(task);
    start(RUNTIME, FN + "HelloPojo");
    Posted posted = api.invoke("{\"name\": [not json").await();
    assertThat(posted.kind()).isEqualTo(Kind.ERROR);
    assertThat(json(posted.body())).containsEntry("errorType", "java.lang.RuntimeException");
    assertThat((String) json(posted.body()).get("errorMessage")).startsWith("An error occurred during JSON parsing");
  }

  @Test
  void initErrors() throws Exception {
    JavaFunctions.classesWithLib(task);
    assertInitError(FN + "Missing", "java.lang.ClassNotFoundException",
        "Class not found: dev.kiln.runtimes.fn.Missing", "Runtime.BadFunctionCode");
    assertInitError(FN + "BrokenConstructor", "java.lang.IllegalArgumentException",
        "missing configuration TABLE_NAME", "Runtime.BadFunctionCode");
    assertInitError(FN + "Methods::absent", "Runtime.HandlerNotFound",
        "No public method named absent with appropriate method signature found on class dev.kiln.runtimes.fn.Methods",
        "Runtime.HandlerNotFound");
    assertInitError(FN + "NotAHandler", "Runtime.HandlerNotFound",
        "Class does not implement an appropriate handler interface: dev.kiln.runtimes.fn.NotAHandler",
        "Runtime.HandlerNotFound");
    assertInitError(FN + "Methods::", "Runtime.MalformedHandlerName",
        "Invalid handler: `dev.kiln.runtimes.fn.Methods::'", "Runtime.MalformedHandlerName");
  }

  private void assertInitError(String handler, String type, String message, String header) throws Exception {
    try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
      RuntimeCommand cmd = catalog().command(RUNTIME, handler).orElseThrow()
          .withHostPaths(catalog().runtimeDir(), task);
      Map<String, String> env = RuntimeProcess.lambdaEnvironment(handler, task, own);
      env.putAll(cmd.extraEnvironment());
      RuntimeProcess p = track(RuntimeProcess.start(cmd.command(), env, task));
      Posted posted = own.initError().get(30, TimeUnit.SECONDS);
      assertThat(json(posted.body())).as(handler).containsEntry("errorType", type).containsEntry("errorMessage", message);
      assertThat(posted.errorType()).isEqualTo(header);
      assertThat(p.awaitExit(Duration.ofSeconds(10))).isEqualTo(1);
      assertThat(own.nextCalls()).isZero();
    }
  }

  @Test
  void contextLoggingAndClassLoading() throws Exception {
    JavaFunctions.fatJar(task);
    RuntimeProcess p = start(RUNTIME, FN + "ContextProbe");
    var pending = api.invoke(FakeRuntimeApi.Invoke.of("{\"k\":[true,null,1.5]}").withTimeout(5000)
        .withClientContext("{\"custom\":{\"k\":\"v\"},\"env\":{},\"client\":{\"installation_id\":\"inst-1\"}}")
        .withCognitoIdentity("{\"cognitoIdentityId\":\"id-1\",\"cognitoIdentityPoolId\":\"pool-1\"}"));
    Posted posted = pending.await();
    assertThat(posted.kind()).as(posted.body()).isEqualTo(Kind.RESPONSE);
    Map<String, Object> c = json(posted.body());
    int first = (Integer) c.get("first");
    int second = (Integer) c.get("second");
    assertThat(first).isBetween(3000, 5000);
    assertThat(second).isLessThanOrEqualTo(first - 100);
    assertThat(c).containsEntry("awsRequestId", pending.requestId())
        .containsEntry("functionName", "test-fn")
        .containsEntry("functionVersion", "$LATEST")
        .containsEntry("invokedFunctionArn", "arn:aws:lambda:us-east-1:123456789012:function:test-fn")
        .containsEntry("memoryLimitInMB", 256)
        .containsEntry("logGroupName", "/aws/lambda/test-fn")
        .containsEntry("logStreamName", "2026/11/23/[$LATEST]0123456789abcdef")
        .containsEntry("xrayTraceId", "Root=1-5e1b4151-5ac6c58f5b5daa6532e4f2e1;Parent=1;Sampled=0")
        .containsEntry("traceProperty", "Root=1-5e1b4151-5ac6c58f5b5daa6532e4f2e1;Parent=1;Sampled=0")
        .containsEntry("identityId", "id-1")
        .containsEntry("custom", Map.of("k", "v"))
        .containsEntry("installationId", "inst-1")
        .containsEntry("contextClassLoader", "FunctionClassLoader")
        .containsEntry("sameCoreClasses", true)
        .containsEntry("coreLoader", "app")
        .containsEntry("jacksonVisible", false)
        .containsEntry("event", Map.of("k", java.util.Arrays.asList(true, null, 1.5)));
    String out = awaitOutput(p, "via System.err");
    assertThat(out.lines().toList())
        .contains("via context logger", "via LambdaRuntime", "via System.out", "via System.err");
  }

  @Test
  void runtimeClassesComeFromTheAotCacheSilently() throws Exception {
    JavaFunctions.classesWithLib(task);
    Path log = task.resolve("class-load.log");
    RuntimeProcess p = start(RUNTIME, FN + "HelloPojo",
        Map.of("JAVA_TOOL_OPTIONS", "-Xlog:class+load=info:file=" + log + " -XX:+PrintFlagsFinal"));
    assertThat(api.invoke("{\"name\":\"aot\"}").await().kind()).isEqualTo(Kind.RESPONSE);
    String classes = Files.readString(log);
    assertThat(classes).containsPattern("tools\\.jackson\\.databind\\.json\\.JsonMapper source: shared objects file")
        .containsPattern("dev\\.kiln\\.runtime\\.java\\.Bootstrap source: shared objects file");
    String out = p.output();
    assertThat(out).doesNotContain("[error]").doesNotContain("[warning]");
    // the flags file's defaults, which the function's JAVA_TOOL_OPTIONS could override
    assertThat(out).containsPattern("TieredStopAtLevel\\s+= 1\\s+\\{product} \\{config file}")
        .containsPattern("UseSerialGC\\s+= true\\s+\\{product} \\{config file}");
  }

  @Test
  void javaToolOptionsOverrideTheRuntimeDefaults() throws Exception {
    JavaFunctions.classesWithLib(task);
    RuntimeProcess p = start(RUNTIME, FN + "HelloMap",
        Map.of("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=4 -XX:+PrintFlagsFinal"));
    assertThat(api.invoke("{}").await().kind()).isEqualTo(Kind.RESPONSE);
    assertThat(p.output()).containsPattern("TieredStopAtLevel\\s+= 4\\s+\\{product} \\{environment}");
  }

  @Test
  void functionCodeOnTheJvmClassPathIsLoadedByTheApplicationClassLoader() throws Exception {
    // What a per-function AOT cache needs: the function's classes on the class path, not in a custom loader.
    JavaFunctions.classesWithLib(task);
    RuntimeCommand cmd = catalog().command(RUNTIME, FN + "ContextProbe").orElseThrow()
        .withHostPaths(catalog().runtimeDir(), task);
    List<String> command = new java.util.ArrayList<>(cmd.command());
    int cp = command.indexOf("-cp") + 1;
    command.set(cp, command.get(cp) + ":" + task + ":" + task + "/lib/*");
    Map<String, String> env = RuntimeProcess.lambdaEnvironment(FN + "ContextProbe", task, api);
    env.putAll(cmd.extraEnvironment());
    track(RuntimeProcess.start(command, env, task));
    Posted posted = api.invoke("{}").await();
    assertThat(json(posted.body())).containsEntry("contextClassLoader", "AppClassLoader")
        .containsEntry("sameCoreClasses", true);
  }

  @Test
  void bootstrapStaysSmallOnTheClassPath() throws IOException {
    // The JVM's class path is the runtime directory's jars only; the function's jars never go on it.
    RuntimeCommand cmd = catalog().command(RUNTIME, FN + "HelloMap").orElseThrow();
    String classPath = cmd.command().get(cmd.command().indexOf("-cp") + 1);
    assertThat(classPath.split(":")).allMatch(e -> e.startsWith("/var/runtime/java/"))
        .startsWith("/var/runtime/java/kiln-runtime-java.jar");
    assertThat(Files.readString(catalog().runtimeDir().resolve("java/jvm.flags"))).contains("TieredStopAtLevel=1");
  }
}
