package dev.kiln.runtime.java;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Type;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A training run for the runtime's own JDK AOT cache ({@code java -XX:AOTCacheOutput=... Bootstrap
 * --aot-training}): goes through what a cold start of the runtime does (Runtime API exchanges on a loopback
 * socket, class loader set-up, plain JSON, Jackson POJO mapping, context, logging, error reports) so that those
 * classes are loaded and linked from the cache instead of from jar files. Function classes are loaded by
 * another class loader and are not part of this cache.
 */
final class AotTraining {
  private AotTraining() {}

  /** A bean-style event, as the function's own classes are. */
  public static final class SampleEvent {
    private String name;
    private int count;
    private List<String> tags;
    private Map<String, Object> detail;
    private Nested nested;

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public int getCount() {
      return count;
    }

    public void setCount(int count) {
      this.count = count;
    }

    public List<String> getTags() {
      return tags;
    }

    public void setTags(List<String> tags) {
      this.tags = tags;
    }

    public Map<String, Object> getDetail() {
      return detail;
    }

    public void setDetail(Map<String, Object> detail) {
      this.detail = detail;
    }

    public Nested getNested() {
      return nested;
    }

    public void setNested(Nested nested) {
      this.nested = nested;
    }
  }

  public static final class Nested {
    private String eventSourceArn;
    private long time;
    private boolean flag;
    private double ratio;

    public String getEventSourceArn() {
      return eventSourceArn;
    }

    public void setEventSourceArn(String eventSourceArn) {
      this.eventSourceArn = eventSourceArn;
    }

    public long getTime() {
      return time;
    }

    public void setTime(long time) {
      this.time = time;
    }

    public boolean isFlag() {
      return flag;
    }

    public void setFlag(boolean flag) {
      this.flag = flag;
    }

    public double getRatio() {
      return ratio;
    }

    public void setRatio(double ratio) {
      this.ratio = ratio;
    }
  }

  public record SampleResult(String message, int count, List<String> tags, String missing) {}

  static void run() throws Exception {
    String event = "{\"Name\":\"training\",\"count\":3,\"tags\":[\"a\",\"b\"],\"detail\":{\"k\":[1,2.5,true,null]},"
        + "\"nested\":{\"eventSourceARN\":\"arn:x\",\"time\":1700000000000,\"flag\":true,\"ratio\":0.5},"
        + "\"detail-type\":\"ignored\"}";
    Path taskRoot = Files.createTempDirectory("kiln-aot-training");
    try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      Thread peer = new Thread(() -> servePeer(server, event), "aot-training-peer");
      peer.setDaemon(true);
      peer.start();

      FunctionEnvironment env = FunctionEnvironment.from(Map.of("AWS_LAMBDA_FUNCTION_NAME", "training",
          "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128", "LAMBDA_TASK_ROOT", taskRoot.toString(),
          "AWS_LAMBDA_RUNTIME_API", "127.0.0.1:" + server.getLocalPort()));
      RuntimeApiClient api = new RuntimeApiClient(env.runtimeApi());
      ClassLoader functionLoader =
          FunctionClassLoader.forTaskRoot(env.taskRoot(), "/opt/java", AotTraining.class.getClassLoader());
      Serialization serialization = new Serialization(functionLoader);
      RuntimeLogger logger = new RuntimeLogger(new PrintStream(OutputStream.nullOutputStream()), null);
      ResponseBuffer out = new ResponseBuffer();

      for (int round = 0; round < 3; round++) {
        Invocation invocation = api.next();
        InvocationContext context = new InvocationContext(invocation, env, logger);
        context.getRemainingTimeInMillis();
        context.getClientContext();
        context.getIdentity();
        context.getLogger().log("training\n");

        // plain JSON (Map in, String out) and POJO JSON (Jackson) both ways
        Serialization.Reader plain = serialization.readerFor(mapType());
        Object map = plain.read(invocation.event());
        out.recycle();
        serialization.writerFor(String.class).write(String.valueOf(map), out);
        Serialization.Reader pojo = serialization.readerFor(SampleEvent.class);
        SampleEvent sample = (SampleEvent) pojo.read(invocation.event());
        out.recycle();
        serialization.writerFor(SampleResult.class)
            .write(new SampleResult(sample.getName(), sample.getCount(), sample.getTags(), null), out);
        serialization.writerFor(Object.class).write(sample, new ResponseBuffer());
        api.postResponse(invocation.requestId(), out.array(), out.size());

        Invocation failing = api.next();
        IllegalStateException failure = new IllegalStateException("training failure");
        ErrorReport.logLine(ErrorReport.messageOf(failure), failure.getClass().getName(), failure);
        api.postError(failing.requestId(), "Runtime.UserException",
            ErrorReport.json(ErrorReport.messageOf(failure), failure.getClass().getName(),
                ErrorReport.stackOf(failure)));
      }
      api.postInitError("Runtime.Training", ErrorReport.json("training", "Runtime.Training", null));
      api.close();
    } finally {
      Files.deleteIfExists(taskRoot);
    }
  }

  private static Type mapType() throws NoSuchMethodException {
    return AotTraining.class.getDeclaredMethod("sampleMap", Map.class).getGenericParameterTypes()[0];
  }

  @SuppressWarnings("unused")
  private static void sampleMap(Map<String, Object> map) {}

  /** A minimal Runtime API peer for the training run. */
  private static void servePeer(ServerSocket server, String event) {
    try (Socket socket = server.accept()) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1));
      byte[] body = event.getBytes(StandardCharsets.UTF_8);
      int id = 0;
      for (String line; (line = reader.readLine()) != null; ) {
        int length = 0;
        for (String h; (h = reader.readLine()) != null && !h.isEmpty(); ) {
          if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
            length = Integer.parseInt(h.substring(15).trim());
          }
        }
        for (int i = 0; i < length; i++) {
          reader.read();
        }
        String response;
        if (line.startsWith("GET")) {
          response = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: training-" + (++id)
              + "\r\nLambda-Runtime-Deadline-Ms: " + (System.currentTimeMillis() + 60_000)
              + "\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:training"
              + "\r\nLambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000"
              + "\r\nLambda-Runtime-Client-Context: {\"custom\":{\"a\":\"b\"},\"env\":{},\"client\":{}}"
              + "\r\nLambda-Runtime-Cognito-Identity: {\"cognitoIdentityId\":\"x\",\"cognitoIdentityPoolId\":\"y\"}"
              + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
          out.write(response.getBytes(StandardCharsets.ISO_8859_1));
          out.write(body);
        } else {
          out.write("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
              .getBytes(StandardCharsets.ISO_8859_1));
        }
        out.flush();
      }
    } catch (IOException ignored) {
      // the training run is over
    }
  }
}
