package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.JavaFunctions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The files a snapshot training run leaves are the function's, never the host's (issue 11, break 1): a training
 * run that puts a symbolic link where its output goes, pointing at a host file only root can read, gets the
 * training refused and nothing of that file, anywhere; the function still boots and runs. A deleted function's
 * snapshot files go with it.
 */
class SnapshotFilesTest extends InvokeTestBase {
  private Path canary;
  private String secret;

  @Override
  protected boolean snapshots() {
    return true;
  }

  /** A host file only root may read (0600 in a 0700 directory), holding a secret no test output contains. */
  @BeforeEach
  void makeCanary() throws IOException {
    Path dir = workDir.resolve("canary-" + UUID.randomUUID());
    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    canary = dir.resolve("secret.key");
    secret = "HOST-SECRET-" + UUID.randomUUID();
    Files.writeString(canary, secret + "\n");
    Files.setPosixFilePermissions(canary, PosixFilePermissions.fromString("rw-------"));
  }

  /**
   * Java: the training run packs the function's jar into the output directory before it runs the function's init;
   * the init replaces that jar with a link to the canary's path (made inside the sandbox as a copy of the jar, so
   * the training itself still succeeds).
   */
  private static final String JAVA_SWAPPER = """
      package leak;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.nio.file.*;
      import java.util.*;

      public class Handler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
        static {
          Path out = Path.of("/run/kiln-output");
          Path jar = out.resolve("function-classes.jar");
          String canary = System.getenv("CANARY_PATH");
          try {
            if (Files.isRegularFile(jar, LinkOption.NOFOLLOW_LINKS)) {
              Path inside = Path.of(canary);
              Files.createDirectories(inside.getParent());
              Files.copy(jar, inside, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
              Path link = out.resolve("link.tmp");
              Files.deleteIfExists(link);
              Files.createSymbolicLink(link, inside);
              Files.move(link, jar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
              System.out.println("swapped the function jar for a link to " + canary);
            }
          } catch (Exception e) {
            System.out.println("no swap: " + e);
          }
        }

        @Override
        public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
          Map<String, Object> result = new LinkedHashMap<>();
          result.put("leaked", Leak.check(System.getenv("SECRET_PREFIX")));
          return result;
        }
      }
      """;

  /**
   * Java, the cache itself: once the training JVM has written function.aot, a process the init left behind swaps it
   * for a link to /etc/shadow (and the init pads the training's scratch directory, so the training takes long
   * enough to clean up for the swap to land before it ends).
   */
  private static final String JAVA_AOT_SWAPPER = """
      package leak;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.nio.file.*;
      import java.util.*;

      public class Handler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
        static {
          if (Files.isDirectory(Path.of("/run/kiln-output")) && Files.isWritable(Path.of("/run/kiln-output"))) {
            try (var dirs = Files.newDirectoryStream(Path.of("/tmp"), "kiln-aot-*")) {
              for (Path dir : dirs) {
                for (int i = 0; i < 40000; i++) Files.createFile(dir.resolve("pad-" + i));
              }
              new ProcessBuilder("/bin/sh", "-c", "cd /run/kiln-output; "
                  + "while [ -e function.aot.config ] || [ ! -s function.aot ]; do sleep 0.005; done; "
                  + "while :; do ln -sfn /etc/shadow .l && mv -T .l function.aot; sleep 0.005; done")
                  .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                  .start();
              System.out.println("swapper started");
            } catch (Exception e) {
              System.out.println("no swapper: " + e);
            }
          }
        }

        @Override
        public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
          Map<String, Object> result = new LinkedHashMap<>();
          result.put("leaked", Leak.check(System.getenv("SECRET_PREFIX")));
          return result;
        }
      }
      """;

  /** What a handler can see of the host secret through its run files. */
  private static final String JAVA_LEAK_CHECK = """
      package leak;

      import java.nio.file.*;

      final class Leak {
        static boolean check(String prefix) {
          try (var files = Files.list(Path.of("/run/kiln"))) {
            for (Path f : files.toList()) {
              try {
                if (new String(Files.readAllBytes(f), "ISO-8859-1").contains(prefix)) return true;
              } catch (Exception unreadable) {
              }
            }
          } catch (Exception none) {
          }
          return false;
        }
      }
      """;

  /** Node: the init puts a link where node writes the blob; node writes through it (inside the sandbox). */
  private static final String NODE_SWAPPER = """
      const fs = require('fs');
      const path = require('path');
      const blob = '/run/kiln-output/node-startup.blob';
      if (process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'snap-start') {
        try {
          fs.mkdirSync(path.dirname(process.env.CANARY_PATH), { recursive: true });
          fs.rmSync(blob, { force: true });
          fs.symlinkSync(process.env.CANARY_PATH, blob);
          console.log('placed a link at ' + blob);
        } catch (e) {
          console.log('no link: ' + e);
        }
      }
      exports.handler = async () => {
        let leaked = false;
        for (const f of fs.existsSync('/run/kiln') ? fs.readdirSync('/run/kiln') : []) {
          try { leaked = leaked || fs.readFileSync('/run/kiln/' + f).includes(process.env.SECRET_PREFIX); } catch (e) {}
        }
        return { leaked };
      };
      """;

  private Map<String, String> variables() {
    return Map.of("CANARY_PATH", canary.toString(), "SECRET_PREFIX", "HOST-SECRET-");
  }

  @Test
  void aJavaTrainingRunLinkingItsJarToAHostFileIsRefused() throws Exception {
    byte[] zip = JavaFunctions.zipWithLib(JavaFunctions.compile(
        Map.of("leak/Handler.java", JAVA_SWAPPER, "leak/Leak.java", JAVA_LEAK_CHECK), 21));
    String name = deploy("snap-link-java", "java21", "leak.Handler::handleRequest", zip,
        b -> b.memorySize(512).environment(e -> e.variables(variables())));
    awaitTrainingOutcome(name);
    assertRefusedAndNothingLeaked(name);
  }

  @Test
  void aJavaTrainingRunSwappingItsCacheForALinkToEtcShadowIsRefused() throws Exception {
    String shadowLine = Files.readAllLines(Path.of("/etc/shadow")).getFirst();
    // The handler looks for the line's start (user and the start of its hash); the scan, for the whole line.
    String shadowStart = shadowLine.substring(0, Math.min(shadowLine.indexOf(':') + 4, shadowLine.length()));
    byte[] zip = JavaFunctions.zipWithLib(JavaFunctions.compile(
        Map.of("leak/Handler.java", JAVA_AOT_SWAPPER, "leak/Leak.java", JAVA_LEAK_CHECK), 21));
    String name = deploy("snap-shadow-java", "java21", "leak.Handler::handleRequest", zip,
        b -> b.memorySize(512).environment(e -> e.variables(Map.of("SECRET_PREFIX", shadowStart))));
    awaitTrainingOutcome(name);
    secret = shadowLine;
    assertRefusedAndNothingLeaked(name);
  }

  @Test
  void aNodeTrainingRunWithALinkInPlaceOfItsBlobIsRefused() throws Exception {
    String name = deploy("snap-link-node", "nodejs22.x", "index.handler", Functions.node(NODE_SWAPPER),
        b -> b.memorySize(256).environment(e -> e.variables(variables())));
    awaitTrainingOutcome(name);
    assertRefusedAndNothingLeaked(name);
  }

  @Test
  void aDeletedFunctionsSnapshotFilesAreGone() throws Exception {
    Path snapshots = server.dataDir().resolve("snapshots");
    Set<Path> before = filesUnder(snapshots);
    String name = deploy("snap-delete", "nodejs22.x", "index.handler",
        Functions.node("exports.handler = async () => ({ ok: true });"), b -> b.memorySize(256));
    awaitTrainingOutcome(name);
    assertThat(server.output()).contains("snapshot made: function=" + name);
    Set<Path> made = filesUnder(snapshots);
    made.removeAll(before);
    assertThat(made).as("the function's snapshot files").isNotEmpty();

    cli.lambda("delete-function", "--function-name", name);
    Awaitility.await("snapshot files of " + name + " removed").atMost(Duration.ofSeconds(20))
        .until(() -> made.stream().noneMatch(Files::exists));
  }

  @Test
  void aRestartKeepsLiveSnapshotsAndDropsThoseOfGoneFunctions() throws Exception {
    Path snapshots = server.dataDir().resolve("snapshots");
    Set<Path> before = filesUnder(snapshots);
    String name = deploy("snap-restart", "nodejs22.x", "index.handler",
        Functions.node("exports.handler = async () => ({ ok: true });"), b -> b.memorySize(256));
    awaitTrainingOutcome(name);
    Set<Path> made = filesUnder(snapshots);
    made.removeAll(before);
    assertThat(made).as("the function's snapshot files").isNotEmpty();
    // What a function deleted while Kiln was down leaves behind.
    Path orphan = Files.createDirectories(snapshots.resolve("fn-" + "0".repeat(32)).resolve("k"));
    Files.writeString(orphan.getParent().resolve("owner"), "000000000000\nno-such-function\n");
    Files.writeString(orphan.resolve("node-startup.blob"), "left over");

    server.stop();
    server.restart();
    connectClients();
    assertThat(orphan.getParent()).as("the snapshots of a function that is gone").doesNotExist();
    assertThat(made).as("the live function's snapshot files").allMatch(Files::exists);
    assertThat(invoke(name, "{}").ok().path("ok").asBoolean()).isTrue();
  }

  /** Waits for the server's log line saying how the function's training ended. */
  private void awaitTrainingOutcome(String name) {
    Awaitility.await("training of " + name).atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofMillis(200))
        .until(() -> server.output().contains("snapshot made: function=" + name)
            || server.output().contains("no snapshot: function=" + name));
  }

  private void assertRefusedAndNothingLeaked(String name) throws Exception {
    assertThat(filesHolding(server.dataDir(), secret)).as("files under the data directory with the host secret")
        .isEmpty();
    // The function still works: it boots without a snapshot, and sees nothing of the host's file.
    for (Invocation call : concurrently(2, () -> invoke(name, "{}"))) {
      assertThat(call.ok().path("leaked").asBoolean()).as("the handler read the host secret").isFalse();
    }
    assertThat(server.output()).as("the training is refused, with the reason logged")
        .contains("snapshot output refused: function=" + name)
        .contains("symbolic link")
        .doesNotContain("snapshot made: function=" + name);
  }

  private static Set<Path> filesUnder(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) return new java.util.HashSet<>();
    try (var walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).collect(Collectors.toCollection(java.util.HashSet::new));
    }
  }

  private static List<Path> filesHolding(Path dir, String text) throws IOException {
    byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
    try (var walk = Files.walk(dir)) {
      return walk.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).filter(p -> {
        try {
          return Files.size(p) < 512L * 1024 * 1024 && indexOf(Files.readAllBytes(p), needle) >= 0;
        } catch (IOException e) {
          if (e instanceof java.nio.file.NoSuchFileException) return false;
          throw new UncheckedIOException(e);
        }
      }).toList();
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) continue outer;
      }
      return i;
    }
    return -1;
  }
}
