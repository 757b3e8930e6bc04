package dev.kiln.e2e.support;

import java.util.Map;

/**
 * Function sources used by the invoke tests, one per runtime family. Each "echo" function returns
 * its event and context fields in the same JSON shape, counts its invocations in a module-level
 * variable (to tell warm from cold environments) and prints one line at init and one per call.
 *
 * <pre>
 * {"event", "functionName", "functionVersion", "invokedFunctionArn", "awsRequestId",
 *  "memoryLimitInMB" (string), "remainingMs", "logGroupName", "logStreamName",
 *  "clientCustom" (context.clientContext.custom or null), "count", "envId", "executionEnv",
 *  "handler", "taskRoot", "runtimeApi", "region"}
 * </pre>
 */
public final class Functions {
  private Functions() {}

  public static final String NODE_ECHO =
      """
      const crypto = require('node:crypto');
      const envId = crypto.randomUUID();
      let count = 0;
      console.log('init-line node');
      exports.handler = async (event, context) => {
        count++;
        console.log(`echo-line count=${count}`);
        return {
          event,
          functionName: context.functionName,
          functionVersion: context.functionVersion,
          invokedFunctionArn: context.invokedFunctionArn,
          awsRequestId: context.awsRequestId,
          memoryLimitInMB: String(context.memoryLimitInMB),
          remainingMs: context.getRemainingTimeInMillis(),
          logGroupName: context.logGroupName,
          logStreamName: context.logStreamName,
          clientCustom: context.clientContext ? context.clientContext.custom : null,
          count,
          envId,
          executionEnv: process.env.AWS_EXECUTION_ENV || null,
          handler: process.env._HANDLER,
          taskRoot: process.env.LAMBDA_TASK_ROOT,
          runtimeApi: process.env.AWS_LAMBDA_RUNTIME_API,
          region: process.env.AWS_REGION,
          user: process.env.GREETING || null,
        };
      };
      """;

  public static final String PYTHON_ECHO =
      """
      import os
      import uuid

      ENV_ID = str(uuid.uuid4())
      count = 0
      print("init-line python")


      def lambda_handler(event, context):
          global count
          count += 1
          print("echo-line count=%d" % count)
          cc = context.client_context
          return {
              "event": event,
              "functionName": context.function_name,
              "functionVersion": context.function_version,
              "invokedFunctionArn": context.invoked_function_arn,
              "awsRequestId": context.aws_request_id,
              "memoryLimitInMB": str(context.memory_limit_in_mb),
              "remainingMs": context.get_remaining_time_in_millis(),
              "logGroupName": context.log_group_name,
              "logStreamName": context.log_stream_name,
              "clientCustom": cc.custom if cc is not None else None,
              "count": count,
              "envId": ENV_ID,
              "executionEnv": os.environ.get("AWS_EXECUTION_ENV"),
              "handler": os.environ.get("_HANDLER"),
              "taskRoot": os.environ.get("LAMBDA_TASK_ROOT"),
              "runtimeApi": os.environ.get("AWS_LAMBDA_RUNTIME_API"),
              "region": os.environ.get("AWS_REGION"),
              "user": os.environ.get("GREETING"),
          }
      """;

  /** echo/Handler.java: a RequestHandler of maps. */
  public static final String JAVA_ECHO =
      """
      package echo;

      import com.amazonaws.services.lambda.runtime.ClientContext;
      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import java.util.LinkedHashMap;
      import java.util.Map;
      import java.util.UUID;

      public class Handler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
        static final String ENV_ID = UUID.randomUUID().toString();
        static int count;

        static {
          System.out.println("init-line java");
        }

        @Override
        public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
          count++;
          System.out.println("echo-line count=" + count);
          context.getLogger().log("logger-line via LambdaLogger\\n");
          ClientContext cc = context.getClientContext();
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("event", event);
          out.put("functionName", context.getFunctionName());
          out.put("functionVersion", context.getFunctionVersion());
          out.put("invokedFunctionArn", context.getInvokedFunctionArn());
          out.put("awsRequestId", context.getAwsRequestId());
          out.put("memoryLimitInMB", String.valueOf(context.getMemoryLimitInMB()));
          out.put("remainingMs", context.getRemainingTimeInMillis());
          out.put("logGroupName", context.getLogGroupName());
          out.put("logStreamName", context.getLogStreamName());
          out.put("clientCustom", cc == null ? null : cc.getCustom());
          out.put("count", count);
          out.put("envId", ENV_ID);
          out.put("executionEnv", System.getenv("AWS_EXECUTION_ENV"));
          out.put("handler", System.getenv("_HANDLER"));
          out.put("taskRoot", System.getenv("LAMBDA_TASK_ROOT"));
          out.put("runtimeApi", System.getenv("AWS_LAMBDA_RUNTIME_API"));
          out.put("region", System.getenv("AWS_REGION"));
          out.put("user", System.getenv("GREETING"));
          return out;
        }
      }
      """;

  /**
   * A {@code provided} bootstrap in plain sh + curl, as the Lambda custom runtime tutorial writes
   * one. It returns the raw client context as "clientContext" (sh cannot pick "custom" out).
   */
  public static final String SHELL_BOOTSTRAP =
      """
      #!/bin/sh
      set -eu
      API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
      ENV_ID=$(cat /proc/sys/kernel/random/uuid)
      COUNT=0
      echo "init-line provided"
      header() { grep -i "^$1:" /tmp/headers | head -n 1 | cut -d' ' -f2- | tr -d '\\r\\n'; }
      while true; do
        EVENT=$(curl -sS -D /tmp/headers "$API/invocation/next")
        REQUEST_ID=$(header lambda-runtime-aws-request-id)
        ARN=$(header lambda-runtime-invoked-function-arn)
        DEADLINE=$(header lambda-runtime-deadline-ms)
        CC=$(header lambda-runtime-client-context)
        NOW=$(date +%s%3N)
        COUNT=$((COUNT + 1))
        echo "echo-line count=$COUNT"
        printf '{"event":%s,"functionName":"%s","functionVersion":"%s","invokedFunctionArn":"%s","awsRequestId":"%s","memoryLimitInMB":"%s","remainingMs":%s,"logGroupName":"%s","logStreamName":"%s","clientContext":%s,"count":%s,"envId":"%s","executionEnv":%s,"handler":"%s","taskRoot":"%s","runtimeApi":"%s","region":"%s","user":%s}' \\
          "$EVENT" "$AWS_LAMBDA_FUNCTION_NAME" "$AWS_LAMBDA_FUNCTION_VERSION" "$ARN" "$REQUEST_ID" \\
          "$AWS_LAMBDA_FUNCTION_MEMORY_SIZE" "$((DEADLINE - NOW))" "$AWS_LAMBDA_LOG_GROUP_NAME" \\
          "$AWS_LAMBDA_LOG_STREAM_NAME" "${CC:-null}" "$COUNT" "$ENV_ID" \\
          "$(if [ -n "${AWS_EXECUTION_ENV:-}" ]; then printf '"%s"' "$AWS_EXECUTION_ENV"; else echo null; fi)" \\
          "$_HANDLER" "$LAMBDA_TASK_ROOT" "$AWS_LAMBDA_RUNTIME_API" "$AWS_REGION" \\
          "$(if [ -n "${GREETING:-}" ]; then printf '"%s"' "$GREETING"; else echo null; fi)" \\
          | curl -sS -o /dev/null -X POST --data-binary @- "$API/invocation/$REQUEST_ID/response"
      done
      """;

  public static byte[] nodeEcho() {
    return FunctionZip.create().file("index.js", NODE_ECHO).bytes();
  }

  public static byte[] pythonEcho() {
    return FunctionZip.create().file("lambda_function.py", PYTHON_ECHO).bytes();
  }

  public static byte[] shellEcho() {
    return FunctionZip.create().executable("bootstrap", SHELL_BOOTSTRAP).bytes();
  }

  public static Map<String, byte[]> javaEchoClasses(int release) {
    return JavaFunctions.compile(Map.of("echo/Handler.java", JAVA_ECHO), release);
  }

  /** A node function from one index.js source. */
  public static byte[] node(String source) {
    return FunctionZip.create().file("index.js", source).bytes();
  }

  /** A python function from one lambda_function.py source. */
  public static byte[] python(String source) {
    return FunctionZip.create().file("lambda_function.py", source).bytes();
  }
}
