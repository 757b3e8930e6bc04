package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.SignedHttp;
import dev.kiln.e2e.support.StreamingLambda;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.LogType;
import software.amazon.awssdk.services.lambda.model.ResponseStreamingInvocationType;
import tools.jackson.databind.JsonNode;

/**
 * InvokeWithResponseStream: a Node.js handler wrapped in awslambda.streamifyResponse sends its
 * response while it runs (PayloadChunk events as it writes, then InvokeComplete); errors and
 * timeouts in the middle of a stream arrive in InvokeComplete; buffered handlers answer in one
 * chunk. Driven by the AWS SDK for Java v2 async client, and by boto3 where it is installed.
 */
class InvokeStreamingTest extends InvokeTestBase {
  private static final String NODE_STREAMING =
      """
      exports.handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
        console.log('streaming start ' + context.awsRequestId);
        const pause = (ms) => new Promise((r) => setTimeout(r, ms));
        if (event.megabytes) {
          const mb = Buffer.alloc(1024 * 1024, 'z');
          for (let i = 0; i < event.megabytes; i++) responseStream.write(mb);
          responseStream.end();
          return;
        }
        for (let i = 1; i <= 3; i++) {
          responseStream.write(`chunk-${i};`);
          if (event.failAfter === i) throw new Error('stream broke after ' + i);
          if (i < 3) await pause(event.gapMs || 0);
        }
        responseStream.end();
      });
      """;

  private StreamingLambda streaming;
  private String streamer;

  @BeforeAll
  void streamingClient() {
    streaming = new StreamingLambda(server.endpoint(), accessKey, secretKey);
    streamer =
        deploy("streamer", "nodejs22.x", "index.handler", Functions.node(NODE_STREAMING), b -> b.timeout(3));
  }

  @AfterAll
  void closeStreamingClient() {
    if (streaming != null) {
      streaming.close();
    }
  }

  private StreamingLambda.Result stream(String name, String payload) {
    return streaming.invoke(
        b -> b.functionName(name).payload(SdkBytes.fromUtf8String(payload)).logType(LogType.TAIL));
  }

  @Test
  void chunks_arrive_while_the_function_is_still_writing() {
    StreamingLambda.Result result = stream(streamer, "{\"gapMs\":600}");
    assertThat(result.response().statusCode()).isEqualTo(200);
    assertThat(result.response().executedVersion()).isEqualTo("$LATEST");
    assertThat(result.payload()).as("%s", result).isEqualTo("chunk-1;chunk-2;chunk-3;");
    assertThat(result.chunks().size()).as("separate PayloadChunk events: %s", result).isGreaterThanOrEqualTo(3);
    // chunk-1 was written 1.2 s before the end: it must arrive well before InvokeComplete.
    assertThat(result.firstChunkLeadMs()).as("first chunk ahead of InvokeComplete: %s", result).isGreaterThan(800);
    assertThat(result.complete()).as("InvokeComplete").isNotNull();
    assertThat(result.errorCode()).isNull();
    assertThat(result.log())
        .contains("streaming start")
        .contains("START RequestId:")
        .contains("END RequestId:")
        .contains("REPORT RequestId:");
  }

  @Test
  void an_error_in_the_middle_of_a_stream_is_reported_in_invoke_complete() {
    StreamingLambda.Result result = stream(streamer, "{\"gapMs\":50,\"failAfter\":2}");
    assertThat(result.response().statusCode()).isEqualTo(200);
    assertThat(result.payload()).as("what was written before the error").startsWith("chunk-1;");
    assertThat(result.payload()).doesNotContain("chunk-3");
    assertThat(result.errorCode()).as("%s", result).isEqualTo("Error");
    assertThat(result.errorDetails()).contains("stream broke after 2");
    // The environment survives a function error.
    assertThat(stream(streamer, "{}").payload()).isEqualTo("chunk-1;chunk-2;chunk-3;");
  }

  @Test
  void a_timeout_in_the_middle_of_a_stream_ends_it_with_sandbox_timedout() {
    String slow =
        deploy("stream-timeout", "nodejs22.x", "index.handler", Functions.node(NODE_STREAMING), b -> b.timeout(1));
    StreamingLambda.Result result = stream(slow, "{\"gapMs\":3000}");
    assertThat(result.payload()).as("%s", result).startsWith("chunk-1;").doesNotContain("chunk-2");
    assertThat(result.errorCode()).as("%s", result).isEqualTo("Sandbox.Timedout");
    assertThat(result.errorDetails()).contains("Task timed out after 1.00 seconds");
    // Replaced: the next stream works.
    assertThat(stream(slow, "{}").payload()).isEqualTo("chunk-1;chunk-2;chunk-3;");
  }

  @Test
  void a_streamed_response_may_exceed_the_6_mb_of_a_buffered_one() {
    StreamingLambda.Result result = stream(streamer, "{\"megabytes\":8}");
    assertThat(result.errorCode()).as("%s", result).isNull();
    assertThat(result.payloadBytes()).isEqualTo(8 * 1024 * 1024);
  }

  @Test
  void buffered_handlers_answer_the_streaming_api_in_one_piece() {
    String echo = deploy("stream-buffered", "python3.12", "lambda_function.lambda_handler", Functions.pythonEcho());
    StreamingLambda.Result result = stream(echo, "{\"via\":\"stream\"}");
    assertThat(result.response().statusCode()).isEqualTo(200);
    assertThat(result.errorCode()).isNull();
    JsonNode body = json(result.payload());
    assertThat(body.path("event").path("via").asString()).isEqualTo("stream");
    assertThat(body.path("functionName").asString()).isEqualTo(echo);
    assertThat(result.log()).contains("echo-line count=1");

    String failing =
        deploy(
            "stream-buffered-error",
            "nodejs20.x",
            "index.handler",
            Functions.node("exports.handler = async () => { throw new RangeError('out of range'); };\n"));
    StreamingLambda.Result error = stream(failing, "{}");
    assertThat(error.errorCode()).as("%s", error).isEqualTo("RangeError");
    assertThat(error.errorDetails()).isEqualTo("out of range");
    assertThat(error.payload()).isEmpty();

    // DryRun through the streaming API: 204, nothing runs.
    StreamingLambda.Result dry =
        streaming.invoke(b -> b.functionName(echo).invocationType(ResponseStreamingInvocationType.DRY_RUN));
    assertThat(dry.response().statusCode()).isEqualTo(204);
    assertThat(dry.chunks()).isEmpty();
  }

  @Test
  void raw_response_is_an_aws_event_stream() {
    SignedHttp.Response raw =
        http.send(
            "POST",
            "/2021-11-15/functions/" + streamer + "/response-streaming-invocations",
            "{}",
            Map.of("X-Amz-Log-Type", "None"));
    assertThat(raw.status()).isEqualTo(200);
    assertThat(raw.header("Content-Type")).isEqualTo("application/vnd.amazon.eventstream");
    assertThat(raw.header("X-Amz-Executed-Version")).isEqualTo("$LATEST");
  }

  /** boto3's invoke_with_response_stream, a second real client, where a python3 with boto3 exists. */
  @Test
  void boto3_reads_the_stream() throws Exception {
    String python = pythonWithBoto3();
    Assumptions.assumeTrue(python != null, "no python3 with boto3 on this machine");
    Path script = workDir.resolve("stream_boto3.py");
    Files.writeString(
        script,
        """
        import json, sys
        import boto3
        from botocore.config import Config

        client = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                              config=Config(retries={"max_attempts": 1}))
        r = client.invoke_with_response_stream(FunctionName=sys.argv[2], Payload=sys.argv[3].encode(), LogType="Tail")
        out = {"status": r["ResponseMetadata"]["HTTPStatusCode"], "version": r.get("ExecutedVersion"),
               "chunks": [], "complete": None}
        for event in r["EventStream"]:
            if "PayloadChunk" in event:
                out["chunks"].append(event["PayloadChunk"]["Payload"].decode())
            if "InvokeComplete" in event:
                out["complete"] = event["InvokeComplete"]
        print(json.dumps(out))
        """);
    JsonNode ok = json(runPython(python, script, streamer, "{\"gapMs\":100}"));
    assertThat(ok.path("status").asInt()).isEqualTo(200);
    assertThat(ok.path("version").asString()).isEqualTo("$LATEST");
    assertThat(String.join("", ok.path("chunks").valueStream().map(JsonNode::asString).toList()))
        .isEqualTo("chunk-1;chunk-2;chunk-3;");
    assertThat(ok.path("complete").path("ErrorCode").isMissingNode()).isTrue();

    JsonNode failed = json(runPython(python, script, streamer, "{\"failAfter\":1}"));
    assertThat(failed.path("complete").path("ErrorCode").asString()).isEqualTo("Error");
    assertThat(failed.path("complete").path("ErrorDetails").asString()).contains("stream broke after 1");
  }

  private String runPython(String python, Path script, String function, String payload) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(python, script.toString(), server.endpoint(), function, payload).redirectErrorStream(false);
    builder.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
    builder.environment().put("AWS_ACCESS_KEY_ID", accessKey);
    builder.environment().put("AWS_SECRET_ACCESS_KEY", secretKey);
    builder.environment().put("AWS_CONFIG_FILE", "/dev/null");
    builder.environment().put("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    Process p = builder.start();
    var out = p.getInputStream().readAllBytes();
    var err = p.getErrorStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue())
        .as("boto3 script failed: %s", new String(err, StandardCharsets.UTF_8))
        .isZero();
    return new String(out, StandardCharsets.UTF_8);
  }

  /** /usr/bin/python3, or the python3 first on PATH, if it can import boto3. */
  private static String pythonWithBoto3() {
    List<String> candidates = new ArrayList<>(List.of("/usr/bin/python3"));
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isBlank()) {
        candidates.add(Path.of(dir, "python3").toString());
      }
    }
    for (String candidate : candidates) {
      if (!Files.isExecutable(Path.of(candidate))) {
        continue;
      }
      try {
        Process p = new ProcessBuilder(candidate, "-c", "import boto3").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
          return candidate;
        }
      } catch (IOException | InterruptedException e) {
        // try the next one
      }
    }
    return null;
  }
}
