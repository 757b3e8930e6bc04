package dev.kiln.runtimes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** Shared set-up: an installed runtime directory, a test Runtime API server, a code directory per test. */
abstract class RuntimeTestBase {
  private static RuntimeCatalog catalog;
  static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path task;
  FakeRuntimeApi api;
  private final List<RuntimeProcess> processes = new ArrayList<>();

  static synchronized RuntimeCatalog catalog() {
    if (catalog == null) {
      try {
        Path dir = Files.createTempDirectory("kiln-runtime-dir-");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
        catalog = RuntimeCatalog.install(dir);
        catalog.awaitJavaAotCache(Duration.ofMinutes(2)); // so that every Java test runs the same command
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return catalog;
  }

  @BeforeEach
  void startApi() throws IOException {
    api = FakeRuntimeApi.start();
  }

  @AfterEach
  void stopAll() throws IOException {
    for (RuntimeProcess p : processes) {
      p.close();
    }
    api.close();
  }

  RuntimeProcess start(String runtime, String handler) throws IOException {
    return start(runtime, handler, Map.of());
  }

  RuntimeProcess start(String runtime, String handler, Map<String, String> extraEnv) throws IOException {
    RuntimeProcess p = RuntimeProcess.start(catalog(), runtime, handler, task, api, extraEnv);
    processes.add(p);
    return p;
  }

  RuntimeProcess track(RuntimeProcess p) {
    processes.add(p);
    return p;
  }

  Path write(String relative, String content) throws IOException {
    Path file = task.resolve(relative);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return file;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> json(String text) {
    return JSON.readValue(text, Map.class);
  }

  static Object jsonValue(String text) {
    return JSON.readValue(text, Object.class);
  }

  /** Waits until the output contains {@code text} (logs are written just before or after a response). */
  static String awaitOutput(RuntimeProcess p, String text) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    String out = p.output();
    while (!out.contains(text) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      out = p.output();
    }
    return out;
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }
}
