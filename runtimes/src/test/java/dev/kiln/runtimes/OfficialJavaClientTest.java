package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.runtimes.FakeRuntimeApi.Kind;
import dev.kiln.runtimes.FakeRuntimeApi.Posted;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * AWS's own runtime interface client ({@code aws-lambda-java-runtime-interface-client}) run as a
 * {@code provided}-style process against the test Runtime API server: evidence that the server (and so the
 * contract the bootstraps are tested against) is the real Runtime API contract.
 */
class OfficialJavaClientTest extends RuntimeTestBase {
  static final String MAIN = "com.amazonaws.services.lambda.runtime.api.client.AWSLambda";

  /** The client and its dependencies, from the test class path. */
  static String classPath() {
    return List.of(
            JavaFunctions.jarOf("com/amazonaws/services/lambda/runtime/api/client/AWSLambda.class"),
            JavaFunctions.coreJar(),
            JavaFunctions.jarOf("com/amazonaws/services/lambda/runtime/serialization/PojoSerializer.class"),
            JavaFunctions.jarOf("software/amazon/awssdk/utilslite/SdkInternalThreadLocal.class"))
        .stream().map(Path::toString).collect(Collectors.joining(":"));
  }

  /** As Lambda's provided runtimes start it: {@code java -cp ... AWSLambda <handler>}, cwd = task root. */
  static RuntimeProcess startOfficialClient(Path task, FakeRuntimeApi api, String handler) throws IOException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "-cp", classPath(), MAIN, handler));
    return RuntimeProcess.start(command, RuntimeProcess.lambdaEnvironment(handler, task, api), task);
  }

  @Test
  void officialClientServesPojoInvocationsFromTheTestServer() throws Exception {
    JavaFunctions.classesWithLib(task);
    RuntimeProcess p = track(startOfficialClient(task, api, "dev.kiln.runtimes.fn.HelloPojo"));
    for (int i = 1; i <= 2; i++) {
      var pending = api.invoke("{\"name\":\"aws\",\"times\":" + i + "}");
      Posted posted = pending.await();
      assertThat(posted.kind()).as(posted.body() + "\n" + p.output()).isEqualTo(Kind.RESPONSE);
      assertThat(json(posted.body())).isEqualTo(Map.of(
          "message", "hello " + "aws".repeat(i) + " from nowhere", "count", i, "requestId", pending.requestId()));
    }
  }

  @Test
  void officialClientReportsErrorsInTheShapeOurJavaRuntimeUses() throws Exception {
    JavaFunctions.classesWithLib(task);
    track(startOfficialClient(task, api, "dev.kiln.runtimes.fn.Failing"));
    Posted posted = api.invoke("{\"fail\":true,\"id\":7}").await();
    assertThat(posted.kind()).isEqualTo(Kind.ERROR);
    assertThat(posted.errorType()).isEqualTo("Runtime.UserException");
    Map<String, Object> body = json(posted.body());
    assertThat(body).containsEntry("errorMessage", "invalid event 7")
        .containsEntry("errorType", "java.lang.IllegalStateException");
    assertThat(body.get("stackTrace")).isEqualTo(List.of(
        "dev.kiln.runtimes.fn.Failing.validate(Failing.java:18)",
        "dev.kiln.runtimes.fn.Failing.handleRequest(Failing.java:12)",
        "dev.kiln.runtimes.fn.Failing.handleRequest(Failing.java:8)"));
  }

  @Test
  void officialClientReportsAMissingClassLikeOurs() throws Exception {
    JavaFunctions.classesWithLib(task);
    track(startOfficialClient(task, api, "dev.kiln.runtimes.fn.Missing"));
    // The official client defers this error to the first invocation; Kiln's reports it at init.
    Posted posted = api.invoke("{}").await();
    assertThat(posted.errorType()).isEqualTo("Runtime.BadFunctionCode");
    assertThat(json(posted.body())).containsEntry("errorType", "java.lang.ClassNotFoundException")
        .containsEntry("errorMessage", "Class not found: dev.kiln.runtimes.fn.Missing");
  }
}
