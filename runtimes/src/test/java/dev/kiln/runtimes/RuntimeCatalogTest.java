package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.runtimes.FakeRuntimeApi.Kind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuntimeCatalogTest extends RuntimeTestBase {
  @TempDir Path runtimeDir;

  /** Installs without training the Java AOT cache (a second or so), for tests that do not look at it. */
  static RuntimeCatalog installQuickly(Path dir) {
    String before = System.getProperty(RuntimeCatalog.AOT_PROPERTY);
    System.setProperty(RuntimeCatalog.AOT_PROPERTY, "false");
    try {
      return RuntimeCatalog.install(dir);
    } finally {
      if (before == null) {
        System.clearProperty(RuntimeCatalog.AOT_PROPERTY);
      } else {
        System.setProperty(RuntimeCatalog.AOT_PROPERTY, before);
      }
    }
  }

  @Test
  void installCopiesEveryBootstrapFileReadableByAll() throws Exception {
    RuntimeCatalog catalog = installQuickly(runtimeDir);
    assertThat(RuntimeCatalog.bundledFileNames()).contains(
        "node/bootstrap.js", "python/bootstrap.py", "java/kiln-runtime-java.jar", "java/aws-lambda-java-core.jar",
        "java/jackson-core.jar", "java/jackson-databind.jar", "java/jackson-annotations.jar", "java/jvm.flags");
    for (String name : RuntimeCatalog.bundledFileNames()) {
      Path file = runtimeDir.resolve(name);
      assertThat(file).isRegularFile();
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r--r--");
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(runtimeDir.resolve("node"))))
        .isEqualTo("rwxr-xr-x");
    assertThat(catalog.runtimeDir()).isEqualTo(runtimeDir.toAbsolutePath());
  }

  @Test
  void reinstallSkipsIdenticalFilesRepairsChangedOnesAndDropsStaleOnes() throws Exception {
    assertThat(RuntimeCatalog.install(runtimeDir).awaitJavaAotCache(Duration.ofMinutes(2))).isTrue();
    Path jar = runtimeDir.resolve("java/kiln-runtime-java.jar");
    Path node = runtimeDir.resolve("node/bootstrap.js");
    FileTime old = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
    Files.setLastModifiedTime(jar, old);
    byte[] original = Files.readAllBytes(node);
    Files.writeString(node, "tampered");
    Path stale = Files.writeString(runtimeDir.resolve("java/jackson-databind-old.jar"), "x");

    RuntimeCatalog again = RuntimeCatalog.install(runtimeDir);

    assertThat(again.awaitJavaAotCache(Duration.ZERO)).as("the cache in place is reused at once").isTrue();
    assertThat(Files.getLastModifiedTime(jar)).as("identical file left alone").isEqualTo(old);
    assertThat(runtimeDir.resolve("java/kiln-runtime.aot")).as("generated, not stale").isRegularFile();
    assertThat(Files.readAllBytes(node)).isEqualTo(original);
    assertThat(stale).doesNotExist();
    try (var listing = Files.list(runtimeDir.resolve("java"))) {
      assertThat(listing.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".install-"));
    }
  }

  @Test
  void supportedRuntimes() {
    RuntimeCatalog catalog = installQuickly(runtimeDir);
    assertThat(catalog.supported()).contains("provided", "provided.al2023", "java21", "java25");
    if (Files.isExecutable(Path.of("/usr/bin/node"))) {
      assertThat(catalog.supported()).contains("nodejs20.x", "nodejs22.x");
    }
    if (Files.isExecutable(Path.of("/usr/bin/python3"))) {
      assertThat(catalog.supported()).contains("python3.11", "python3.12", "python3.13");
    }
    assertThat(catalog.command("nodejs16.x", "index.handler")).isEmpty();
    assertThat(catalog.command("python2.7", "x.y")).isEmpty();
    assertThat(catalog.command("dotnet8", "x")).isEmpty();
    assertThat(catalog.command(null, "x")).isEmpty();
  }

  @Test
  void commandsUseSandboxPaths() {
    RuntimeCatalog catalog = RuntimeCatalog.install(runtimeDir);
    assumeTrue(catalog.supported().containsAll(Set.of("nodejs22.x", "python3.13")));
    assertThat(catalog.command("java25", "a.B").orElseThrow().command()).as("before the AOT cache is ready")
        .noneMatch(a -> a.startsWith("-XX:AOTCache"));
    assertThat(catalog.awaitJavaAotCache(Duration.ofMinutes(2))).isTrue();

    RuntimeCommand node = catalog.command("nodejs22.x", "index.handler").orElseThrow();
    assertThat(node.command()).containsExactly("/usr/bin/node", "/var/runtime/node/bootstrap.js");
    assertThat(node.extraEnvironment())
        .containsEntry("AWS_EXECUTION_ENV", "AWS_Lambda_nodejs22.x")
        .containsEntry("_HANDLER", "index.handler")
        .containsEntry("NODE_PATH",
            "/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task")
        .containsEntry("LAMBDA_RUNTIME_DIR", "/var/runtime");

    RuntimeCommand python = catalog.command("python3.13", "app.handler").orElseThrow();
    assertThat(python.command())
        .containsExactly("/usr/bin/python3", "-S", "-B", "-u", "/var/runtime/python/bootstrap.py");
    assertThat(python.extraEnvironment()).containsEntry("AWS_EXECUTION_ENV", "AWS_Lambda_python3.13");

    RuntimeCommand java = catalog.command("java21", "a.B::c").orElseThrow();
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    assertThat(runtimeDir.resolve("java/kiln-runtime.aot")).as("the runtime's AOT cache was trained").isRegularFile();
    assertThat(java.command()).containsExactly(javaBin, "-XX:Flags=/var/runtime/java/jvm.flags",
        "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        "-XX:AOTCache=/var/runtime/java/kiln-runtime.aot", "-Xlog:aot=off", "-Xlog:cds=off", "-cp",
        "/var/runtime/java/kiln-runtime-java.jar:/var/runtime/java/aws-lambda-java-core.jar:"
            + "/var/runtime/java/jackson-annotations.jar:/var/runtime/java/jackson-core.jar:"
            + "/var/runtime/java/jackson-databind.jar",
        "dev.kiln.runtime.java.Bootstrap");
    assertThat(java.extraEnvironment()).containsEntry("AWS_EXECUTION_ENV", "AWS_Lambda_java21");

    for (String provided : List.of("provided", "provided.al2023")) {
      RuntimeCommand custom = catalog.command(provided, "function.handler").orElseThrow();
      assertThat(custom.command()).containsExactly("/var/task/bootstrap");
      assertThat(custom.extraEnvironment()).isEqualTo(Map.of("_HANDLER", "function.handler"));
    }
  }

  @Test
  void hostPathsReplaceSandboxPaths() {
    RuntimeCommand command = new RuntimeCommand(
        List.of("/usr/bin/node", "/var/runtime/node/bootstrap.js", "/var/task/bootstrap"),
        Map.of("NODE_PATH", "/var/runtime:/var/task", "OTHER", "/usr/lib"), true);
    RuntimeCommand host = command.withHostPaths(Path.of("/srv/rt"), Path.of("/srv/code/f1"));
    assertThat(host.command()).containsExactly("/usr/bin/node", "/srv/rt/node/bootstrap.js", "/srv/code/f1/bootstrap");
    assertThat(host.extraEnvironment()).isEqualTo(Map.of("NODE_PATH", "/srv/rt:/srv/code/f1", "OTHER", "/usr/lib"));
    assertThat(host.marksEndOfOutput()).isTrue();
  }

  @Test
  void providedRuntimeRunsTheFunctionsOwnBootstrap() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "curl is not installed");
    // A custom runtime written in shell, as in AWS's custom runtime tutorial.
    Path bootstrap = write("bootstrap", """
        #!/bin/sh
        set -eu
        API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
        while true; do
          HEADERS="$(mktemp)"
          EVENT=$(curl -sS -LD "$HEADERS" "$API/next")
          ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
          curl -sS -X POST "$API/$ID/response" -d "{\\"echo\\":$EVENT,\\"handler\\":\\"$_HANDLER\\"}" > /dev/null
        done
        """);
    Files.setPosixFilePermissions(bootstrap, PosixFilePermissions.fromString("rwxr-xr-x"));
    start("provided.al2023", "function.handler");
    var posted = api.invoke("{\"n\":1}").await();
    assertThat(posted.kind()).isEqualTo(Kind.RESPONSE);
    assertThat(json(posted.body())).isEqualTo(Map.of("echo", Map.of("n", 1), "handler", "function.handler"));
  }
}
