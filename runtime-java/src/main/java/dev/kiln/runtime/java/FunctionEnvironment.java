package dev.kiln.runtime.java;

import java.util.Map;

/** The function's settings the platform passes as Lambda environment variables. */
record FunctionEnvironment(
    String functionName,
    String functionVersion,
    int memoryLimitInMb,
    String logGroupName,
    String logStreamName,
    String handler,
    String taskRoot,
    String runtimeApi,
    String logLevel) {

  static FunctionEnvironment from(Map<String, String> env) {
    String memory = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
    int memoryMb;
    try {
      memoryMb = memory == null ? 128 : Integer.parseInt(memory.trim());
    } catch (NumberFormatException e) {
      memoryMb = 128;
    }
    String taskRoot = env.get("LAMBDA_TASK_ROOT");
    return new FunctionEnvironment(
        env.get("AWS_LAMBDA_FUNCTION_NAME"),
        env.get("AWS_LAMBDA_FUNCTION_VERSION"),
        memoryMb,
        env.get("AWS_LAMBDA_LOG_GROUP_NAME"),
        env.get("AWS_LAMBDA_LOG_STREAM_NAME"),
        env.get("_HANDLER"),
        taskRoot == null || taskRoot.isEmpty() ? System.getProperty("user.dir") : taskRoot,
        env.getOrDefault("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
        env.get("AWS_LAMBDA_LOG_LEVEL"));
  }
}
