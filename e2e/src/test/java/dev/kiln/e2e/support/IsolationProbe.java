package dev.kiln.e2e.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The isolation probe (a Python program, {@code kiln_probe.py}) packaged as a function of each runtime family. Python
 * handlers import it; Node, Java and {@code provided} handlers run it as a child process with the request on stdin
 * and return what it prints, so each attack runs inside that runtime's sandbox, as a child of that runtime's
 * process (with its namespaces, limits and system call filter).
 */
public final class IsolationProbe {
  private IsolationProbe() {}

  /** The probe's source, shipped in every probe function's zip as {@code kiln_probe.py}. */
  public static final String SOURCE = resource("/dev/kiln/e2e/isolation/kiln_probe.py");

  private static final String PYTHON_HANDLER =
      """
      import kiln_probe


      def handler(event, context):
          return kiln_probe.run(event, context.aws_request_id)
      """;

  private static final String NODE_HANDLER =
      """
      const { spawnSync } = require('node:child_process');
      exports.handler = async (event, context) => {
        const r = spawnSync('/usr/bin/python3', ['/var/task/kiln_probe.py'], {
          input: JSON.stringify({ requestId: context.awsRequestId, event }), maxBuffer: 64 * 1024 * 1024 });
        if (r.status !== 0 || !r.stdout.length) {
          return { probeExit: r.status, probeSignal: r.signal, error: r.error ? String(r.error) : null,
            stderr: String(r.stderr).slice(-2000) };
        }
        return JSON.parse(r.stdout);
      };
      """;

  private static final String JAVA_HANDLER =
      """
      package probe;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
      import java.io.IOException;
      import java.io.InputStream;
      import java.io.OutputStream;
      import java.nio.charset.StandardCharsets;

      public class Handler implements RequestStreamHandler {
        @Override
        public void handleRequest(InputStream in, OutputStream out, Context context) throws IOException {
          byte[] event = in.readAllBytes();
          Process probe = new ProcessBuilder("/usr/bin/python3", "/var/task/kiln_probe.py")
              .redirectError(ProcessBuilder.Redirect.INHERIT).start();
          try (OutputStream stdin = probe.getOutputStream()) {
            stdin.write(("{\\"requestId\\":\\"" + context.getAwsRequestId() + "\\",\\"event\\":")
                .getBytes(StandardCharsets.UTF_8));
            stdin.write(event);
            stdin.write('}');
          }
          byte[] result = probe.getInputStream().readAllBytes();
          int code;
          try {
            code = probe.waitFor();
          } catch (InterruptedException e) {
            throw new IOException(e);
          }
          out.write(code == 0 && result.length > 0 ? result
              : ("{\\"probeExit\\":" + code + "}").getBytes(StandardCharsets.UTF_8));
        }
      }
      """;

  /** A custom runtime in sh and curl, as Lambda's tutorial writes one, running the probe for each event. */
  private static final String BOOTSTRAP =
      """
      #!/bin/sh
      API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
      HEADERS=/tmp/.probe-headers
      OUT=/tmp/.probe-out
      while true; do
        EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
        ID=$(grep -i '^lambda-runtime-aws-request-id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\\r\\n')
        printf '{"requestId":"%s","event":%s}' "$ID" "$EVENT" | /usr/bin/python3 /var/task/kiln_probe.py > "$OUT" \\
          || printf '{"probeExit":%d}' "$?" > "$OUT"
        curl -sS -o /dev/null -X POST --data-binary "@$OUT" "$API/invocation/$ID/response"
      done
      """;

  /** A runtime family the probe is packaged for: its Lambda runtime, handler and code package. */
  public enum Family {
    PYTHON("python3.12", "probe_handler.handler"),
    NODE("nodejs22.x", "index.handler"),
    JAVA("java21", "probe.Handler::handleRequest"),
    PROVIDED("provided.al2023", "probe");

    public final String runtime;
    public final String handler;

    Family(String runtime, String handler) {
      this.runtime = runtime;
      this.handler = handler;
    }

    /** The probe function's package; {@code extra} may add entries (tricks) to it. */
    public FunctionZip zip() {
      FunctionZip zip = FunctionZip.create().file("kiln_probe.py", SOURCE);
      return switch (this) {
        case PYTHON -> zip.file("probe_handler.py", PYTHON_HANDLER);
        case NODE -> zip.file("index.js", NODE_HANDLER);
        case JAVA -> zip.files(JavaClasses.HANDLER).copy("lib/aws-lambda-java-core-1.4.0.jar", JavaFunctions.coreJar());
        case PROVIDED -> zip.executable("bootstrap", BOOTSTRAP);
      };
    }
  }

  /** Compiled once, on first use by a Java probe. */
  private static final class JavaClasses {
    static final Map<String, byte[]> HANDLER = JavaFunctions.compile(Map.of("probe/Handler.java", JAVA_HANDLER), 21);
  }

  private static String resource(String name) {
    try (InputStream in = IsolationProbe.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
