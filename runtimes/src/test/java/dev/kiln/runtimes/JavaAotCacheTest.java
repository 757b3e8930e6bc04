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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.kiln.runtimes.JavaAot.Snapshot;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java runtime's per-function JDK AOT cache ({@link JavaAotRecipe}): a training run as the worker starts it
 * at publish time, then environments started from its files, as real JVMs against the test Runtime API. The
 * sandbox paths are host directories here, the same ones for training and restore, as the sandbox mounts give.
 */
class JavaAotCacheTest extends RuntimeTestBase {
  static final String RUNTIME = "java25";
  static final String FN = "dev.kiln.runtimes.fn.";

  @TempDir Path dirs;

  @BeforeAll
  static void javaAvailable() {
    assumeTrue(catalog().supported().contains(RUNTIME), "no java runtime");
  }

  @Test
  void recipeOfTheJavaRuntimes() {
    SnapshotRecipe recipe = catalog().snapshotRecipe(RUNTIME).orElseThrow();
    assertThat(recipe.kind()).isEqualTo("java-aot-cache");
    assertThat(recipe.files()).containsExactly("function.aot", "function-classes.jar");
    assertThat(recipe.trainingCommand()).endsWith("--train-function", "/run/kiln-output", "/run/kiln");
    List<String> restored = recipe.restore().apply(catalog().command(RUNTIME, FN + "HelloPojo").orElseThrow())
        .command();
    assertThat(restored).contains("-XX:AOTCache=/run/kiln/function.aot", "-Dkiln.function.jar=/run/kiln/function-classes.jar")
        .noneMatch(arg -> arg.contains("kiln-runtime.aot"));
    assertThat(restored.get(restored.indexOf("-cp") + 1)).endsWith(":/run/kiln/function-classes.jar");
    assertThat(catalog().snapshotRecipe("java21")).isPresent();
  }

  @Test
  void functionClassesFromTheCodeRootAndALibJarComeFromTheCache() throws Exception {
    JavaFunctions.classesWithLib(task);
    Snapshot snapshot = train(FN + "ScheduledHandler");

    Path classLog = dirs.resolve("class-load.log");
    RuntimeProcess p = restore(snapshot, FN + "ScheduledHandler", api, classLog);
    String scheduled = """
        {"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
         "source":"aws.events","account":"123456789012","time":"2015-10-08T16:53:06Z","region":"us-east-1",
         "resources":["arn:aws:events:us-east-1:123456789012:rule/my-schedule"],"detail":{"k":"v"}}
        """;
    for (int i = 0; i < 2; i++) {
      Posted posted = api.invoke(scheduled).await();
      assertThat(posted.kind()).as(posted.body() + "\n" + p.output()).isEqualTo(Kind.RESPONSE);
      assertThat(json(posted.body())).isEqualTo(Map.of("detailType", "Scheduled Event", "source", "aws.events",
          "account", "123456789012", "year", 2015,
          "resources", List.of("arn:aws:events:us-east-1:123456789012:rule/my-schedule"), "detail", Map.of("k", "v")));
    }
    String loaded = Files.readString(classLog);
    // the handler (a class file at the code root) and its event class (lib/aws-lambda-java-events), both loaded
    // by the training run's init; classes first used by an invocation (Joda-Time's internals) come from the jar
    assertThat(loaded)
        .contains("dev.kiln.runtimes.fn.ScheduledHandler source: shared objects file")
        .contains("com.amazonaws.services.lambda.runtime.events.ScheduledEvent source: shared objects file")
        .contains("tools.jackson.databind.ObjectMapper source: shared objects file");
    assertThat(p.output()).doesNotContain("AOT").doesNotContain("CDS");
  }

  @Test
  void pojoStateContextAndErrorsBehaveAsWithoutTheCache() throws Exception {
    JavaFunctions.classesWithLib(task);
    Snapshot pojo = train(FN + "HelloPojo");
    restore(pojo, FN + "HelloPojo", api, null);
    for (int i = 1; i <= 3; i++) {
      var pending = api.invoke("{\"NAME\":\"kiln\",\"times\":" + i + ",\"address\":{\"City\":\"Lyon\"},\"extra\":true}");
      Posted posted = pending.await();
      assertThat(posted.kind()).as(posted.body()).isEqualTo(Kind.RESPONSE);
      assertThat(json(posted.body())).isEqualTo(Map.of(
          "message", "hello " + "kiln".repeat(i) + " from Lyon", "count", i, "requestId", pending.requestId()));
    }

    try (FakeRuntimeApi own = FakeRuntimeApi.start()) {
      Snapshot failing = train(FN + "Failing");
      RuntimeProcess p = restore(failing, FN + "Failing", own, null);
      Posted posted = own.invoke("{\"fail\":true,\"id\":7}").await();
      assertThat(posted.kind()).isEqualTo(Kind.ERROR);
      Map<String, Object> body = json(posted.body());
      assertThat(body).containsEntry("errorMessage", "invalid event 7")
          .containsEntry("errorType", "java.lang.IllegalStateException");
      assertThat(body.get("stackTrace")).isEqualTo(List.of(
          "dev.kiln.runtimes.fn.Failing.validate(Failing.java:18)",
          "dev.kiln.runtimes.fn.Failing.handleRequest(Failing.java:12)",
          "dev.kiln.runtimes.fn.Failing.handleRequest(Failing.java:8)"));
      assertThat(awaitOutput(p, "invalid event 7: java.lang.IllegalStateException"))
          .contains("invalid event 7: java.lang.IllegalStateException");
      assertThat(own.invoke("{}").await().body()).isEqualTo("\"fine\"");
    }
  }

  @Test
  void aFailingInitializationGivesNoCacheAndSaysWhy() throws Exception {
    JavaFunctions.classesWithLib(task);
    RuntimeProcess p = startTraining(FN + "BrokenConstructor");
    assertThat(p.awaitExit(Duration.ofMinutes(3))).as(p.output()).isNotNull().isNotZero();
    assertThat(lastLine(p.output())).startsWith("kiln: no AOT cache for this function: ")
        .contains("initialization failed");
  }

  @Test
  void codeBundlingTheRuntimesOwnLibrariesKeepsItsClassLoader() throws Exception {
    JavaFunctions.classesWithLib(task);
    Path jackson = catalog().runtimeDir().resolve("java/jackson-databind.jar");
    Files.copy(jackson, task.resolve("lib/jackson-databind-3.0.jar"));
    RuntimeProcess p = startTraining(FN + "HelloPojo");
    assertThat(p.awaitExit(Duration.ofMinutes(3))).as(p.output()).isNotNull().isNotZero();
    assertThat(lastLine(p.output())).startsWith("kiln: no AOT cache for this function: ")
        .contains("bundles classes the runtime also has (tools.jackson.databind.");
  }

  Snapshot train(String handler) throws Exception {
    return aot().train(handler, api);
  }

  RuntimeProcess startTraining(String handler) throws IOException {
    return track(aot().startTraining(handler, api));
  }

  RuntimeProcess restore(Snapshot snapshot, String handler, FakeRuntimeApi to, Path classLog) throws IOException {
    return track(aot().restore(snapshot, handler, to, classLog));
  }

  private JavaAot aot() {
    return new JavaAot(catalog(), RUNTIME, task, dirs, this::track);
  }

  static String lastLine(String output) {
    String[] lines = output.strip().split("\n");
    return lines[lines.length - 1];
  }
}
