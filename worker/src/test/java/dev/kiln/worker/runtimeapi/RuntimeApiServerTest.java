package dev.kiln.worker.runtimeapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Runtime API over a real Unix socket, driven by curl as a runtime client would. */
class RuntimeApiServerTest {
  @TempDir Path dir;
  private RuntimeApiServer server;
  private final BlockingQueue<NextInvocation> work = new ArrayBlockingQueue<>(4);
  private final List<String> received = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = RuntimeApiServer.start(dir.resolve("runtime.sock"), new RuntimeApiHandler() {
      @Override
      public NextInvocation next() throws InterruptedException {
        return work.take();
      }

      @Override
      public RuntimeReply response(String requestId, long length, BodyReader body) throws IOException {
        var bytes = body.read(RuntimeApiServer.MAX_RESPONSE_BYTES);
        if (bytes == null) {
          received.add("too-large " + requestId);
          return RuntimeReply.error(413, "RequestEntityTooLarge", "too large");
        }
        received.add("response " + requestId + " " + new String(bytes, StandardCharsets.UTF_8));
        return RuntimeReply.ACCEPTED;
      }

      @Override
      public RuntimeReply streamingResponse(String requestId, ChunkReader chunks) throws IOException {
        var parts = new ArrayList<String>();
        for (var chunk = chunks.next(); chunk != null; chunk = chunks.next()) {
          parts.add(new String(chunk, StandardCharsets.UTF_8));
        }
        received.add("stream " + requestId + " " + String.join("|", parts) + " error="
            + chunks.trailer("Lambda-Runtime-Function-Error-Type") + " type=" + chunks.contentType());
        return RuntimeReply.ACCEPTED;
      }

      @Override
      public RuntimeReply error(String requestId, String errorType, byte[] body) {
        received.add("error " + requestId + " " + errorType + " " + new String(body, StandardCharsets.UTF_8));
        return RuntimeReply.ACCEPTED;
      }

      @Override
      public RuntimeReply initError(String errorType, byte[] body) {
        received.add("init-error " + errorType);
        return RuntimeReply.ACCEPTED;
      }
    });
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void nextCarriesTheEventAndLambdaHeaders() throws Exception {
    work.put(new NextInvocation("req-1", 1234L, "arn:aws:lambda:us-east-1:000000000000:function:f", "Root=1-x",
        "{\"custom\":{}}", null, "{\"a\":1}".getBytes(StandardCharsets.UTF_8)));
    var out = curl("-i", "http://localhost/2018-06-01/runtime/invocation/next");
    assertThat(out).contains("HTTP/1.1 200", "Lambda-Runtime-Aws-Request-Id: req-1", "Lambda-Runtime-Deadline-Ms: 1234",
        "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:f",
        "Lambda-Runtime-Client-Context: {\"custom\":{}}", "{\"a\":1}");
  }

  @Test
  void responsesAndErrorsReachTheHandler() throws Exception {
    var ok = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-d", "{\"ok\":true}",
        "http://localhost/2018-06-01/runtime/invocation/req-2/response");
    var error = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Lambda-Runtime-Function-Error-Type: Boom",
        "-d", "{\"errorMessage\":\"x\"}", "http://localhost/2018-06-01/runtime/invocation/req-3/error");
    var init = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
        "Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError", "-d", "{}",
        "http://localhost/2018-06-01/runtime/init/error");
    assertThat(List.of(ok, error, init)).containsOnly("202");
    assertThat(received).containsExactly("response req-2 {\"ok\":true}", "error req-3 Boom {\"errorMessage\":\"x\"}",
        "init-error Runtime.ImportModuleError");
  }

  @Test
  void streamedResponsesArriveChunkByChunkWithErrorTrailers() throws Exception {
    var file = dir.resolve("body");
    java.nio.file.Files.writeString(file, "hello streaming world");
    var status = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked",
        "-H", "Lambda-Runtime-Function-Response-Mode: streaming", "--data-binary", "@" + file,
        "-H", "Content-Type: application/vnd.awslambda.http-integration-response",
        "http://localhost/2018-06-01/runtime/invocation/req-4/response");
    assertThat(status).isEqualTo("202");
    assertThat(received).singleElement().asString().startsWith("stream req-4 hello streaming world")
        .endsWith(" type=application/vnd.awslambda.http-integration-response");
  }

  @Test
  void oversizedResponsesAreRefusedAndTheConnectionSurvives() throws Exception {
    var big = dir.resolve("big");
    java.nio.file.Files.write(big, new byte[(int) RuntimeApiServer.MAX_RESPONSE_BYTES + 10]);
    var status = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@" + big,
        "http://localhost/2018-06-01/runtime/invocation/req-5/response");
    assertThat(status).isEqualTo("413");
    assertThat(received).containsExactly("too-large req-5");
  }

  @Test
  void unknownRoutesAre404() throws Exception {
    assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "http://localhost/2018-06-01/runtime/other"))
        .isEqualTo("404");
  }

  private String curl(String... args) throws Exception {
    var command = new ArrayList<String>(List.of("curl", "--unix-socket", server.socket().toString(), "-sS"));
    command.addAll(List.of(args));
    var process = new ProcessBuilder(command).redirectErrorStream(true).start();
    var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor();
    return output;
  }
}
