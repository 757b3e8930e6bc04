package dev.kiln.bench;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.State;

/** The no-op functions the bench runs, and the control-plane calls that create and change them. */
final class Functions {
  static final String ROLE = "arn:aws:iam::000000000000:role/kiln";

  /** One runtime under test: its Lambda runtime id, handler and package. */
  record Spec(String key, String runtime, String handler, byte[] zip, int memoryMb) {
    String functionName() {
      return "bench-" + key;
    }
  }

  private Functions() {}

  static Spec spec(String key, Path workDir) {
    return switch (key) {
      case "node" -> new Spec(key, "nodejs22.x", "index.handler",
          zip(Map.of("index.js", "exports.handler = async () => ({ok:true});\n")), 128);
      case "python" -> new Spec(key, "python3.12", "lambda_function.lambda_handler",
          zip(Map.of("lambda_function.py", "def lambda_handler(event, context):\n    return {\"ok\": True}\n")), 128);
      case "java" -> new Spec(key, "java25", "bench.Handler::handleRequest", javaZip(workDir), 512);
      default -> throw new IllegalArgumentException("unknown runtime '" + key + "': use node, python or java");
    };
  }

  static final String JAVA_HANDLER = """
      package bench;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.util.Map;

      public class Handler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
        @Override
        public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
          return Map.of("ok", true);
        }
      }
      """;

  /** Compiles the Java handler against aws-lambda-java-core with javax.tools and zips its class. */
  static byte[] javaZip(Path workDir) {
    return javaZip(workDir, JAVA_HANDLER);
  }

  /** Compiles {@code source} (class bench.Handler) like {@link #javaZip(Path)}. */
  static byte[] javaZip(Path workDir, String source) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      throw new IllegalStateException("no Java compiler in " + System.getProperty("java.home")
          + ": run the bench with a JDK, not a JRE");
    }
    try {
      Path src = workDir.resolve("java-src/bench/Handler.java");
      Path classes = workDir.resolve("java-classes");
      Files.createDirectories(src.getParent());
      Files.createDirectories(classes);
      Files.writeString(src, source);
      Path coreJar = Path.of(RequestHandler.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
      int rc = javac.run(null, diagnostics, diagnostics, "--release", "21", "-proc:none", "-nowarn",
          "-cp", coreJar.toString(), "-d", classes.toString(), src.toString());
      if (rc != 0) {
        throw new IllegalStateException("javac failed (" + rc + "): " + diagnostics.toString(StandardCharsets.UTF_8));
      }
      byte[] clazz = Files.readAllBytes(classes.resolve("bench/Handler.class"));
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
        zip.putNextEntry(new ZipEntry("bench/"));
        zip.closeEntry();
        zip.putNextEntry(new ZipEntry("bench/Handler.class"));
        zip.write(clazz);
        zip.closeEntry();
      }
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] zip(Map<String, String> files) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (var f : files.entrySet()) {
        zip.putNextEntry(new ZipEntry(f.getKey()));
        zip.write(f.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static void create(LambdaClient lambda, Spec spec, String name) {
    lambda.createFunction(r -> r.functionName(name)
        .runtime(spec.runtime())
        .handler(spec.handler())
        .role(ROLE)
        .memorySize(spec.memoryMb())
        .timeout(30)
        .code(c -> c.zipFile(SdkBytes.fromByteArray(spec.zip()))));
  }

  /** Polls GetFunction until the function is Active; fails on Failed or after {@code timeout}. */
  static void awaitActive(LambdaClient lambda, String name, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      FunctionConfiguration c = lambda.getFunction(r -> r.functionName(name)).configuration();
      if (c.state() == State.ACTIVE) {
        return;
      }
      if (c.state() == State.FAILED) {
        throw new IllegalStateException(name + " failed to activate: " + c.stateReasonCode() + " " + c.stateReason());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(name + " is still " + c.state() + " after " + timeout.toSeconds() + " s");
      }
      Thread.sleep(5);
    }
  }

  /** Polls GetFunctionConfiguration until LastUpdateStatus is Successful. */
  static void awaitUpdated(LambdaClient lambda, String name, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      var c = lambda.getFunctionConfiguration(r -> r.functionName(name));
      if (c.lastUpdateStatus() == LastUpdateStatus.SUCCESSFUL) {
        return;
      }
      if (c.lastUpdateStatus() == LastUpdateStatus.FAILED) {
        throw new IllegalStateException(name + " update failed: " + c.lastUpdateStatusReason());
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(name + " update still " + c.lastUpdateStatus() + " after "
            + timeout.toSeconds() + " s");
      }
      Thread.sleep(5);
    }
  }

  /** Durations and peak memory from the REPORT line of a Tail log (base64 X-Amz-Log-Result). */
  record Report(Double durationMs, Double initMs, Double restoreMs, Double maxMemoryMb) {
    private static final Pattern DURATION = Pattern.compile("Duration: ([0-9.]+) ms");
    private static final Pattern INIT = Pattern.compile("Init Duration: ([0-9.]+) ms");
    private static final Pattern RESTORE = Pattern.compile("Restore Duration: ([0-9.]+) ms");
    private static final Pattern MAX_MEMORY = Pattern.compile("Max Memory Used: ([0-9.]+) MB");

    static Report parse(String logResultBase64) {
      if (logResultBase64 == null || logResultBase64.isEmpty()) {
        return new Report(null, null, null, null);
      }
      String log = new String(Base64.getDecoder().decode(logResultBase64), StandardCharsets.UTF_8);
      String report = log.lines().filter(l -> l.startsWith("REPORT")).findFirst().orElse("");
      return new Report(first(DURATION, report), first(INIT, report), first(RESTORE, report),
          first(MAX_MEMORY, report));
    }

    private static Double first(Pattern p, String s) {
      Matcher m = p.matcher(s);
      while (m.find()) {
        // "Duration:" also ends "Billed Duration:", "Init Duration:" ...: take the plain one.
        int start = m.start();
        String before = s.substring(Math.max(0, start - 8), start);
        if (p == DURATION && (before.endsWith("Billed ") || before.endsWith("Init ") || before.endsWith("Restore "))) {
          continue;
        }
        return Double.parseDouble(m.group(1));
      }
      return null;
    }
  }

  static List<String> supportedKeys() {
    return List.of("node", "python", "java");
  }
}
