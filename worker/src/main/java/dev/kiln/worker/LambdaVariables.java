package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** The environment variables Lambda sets for a runtime, in the same names and forms. */
final class LambdaVariables {
  private static final DateTimeFormatter STREAM_DATE = DateTimeFormatter.ofPattern("yyyy/MM/dd");

  private LambdaVariables() {}

  /** A log stream name like Lambda's: {@code 2026/11/23/[$LATEST]0123456789abcdef...}. */
  static String logStreamName(String version) {
    var id = new byte[16];
    ThreadLocalRandom.current().nextBytes(id);
    return LocalDate.now(ZoneOffset.UTC).format(STREAM_DATE) + "/[" + version + "]" + HexFormat.of().formatHex(id);
  }

  static Map<String, String> forVersion(FunctionVersion v, String region, String runtimeApi, String logStream,
      String initializationType, Map<String, String> runtimeExtras) {
    var env = new LinkedHashMap<String, String>();
    // User variables first so Lambda's reserved names always win.
    env.putAll(v.environment());
    env.put("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
    env.put("LD_LIBRARY_PATH", "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib");
    env.put("LANG", "en_US.UTF-8");
    env.put("TZ", ":UTC");
    env.put("_HANDLER", v.handler() == null ? "" : v.handler());
    env.put("LAMBDA_TASK_ROOT", "/var/task");
    env.put("LAMBDA_RUNTIME_DIR", "/var/runtime");
    env.put("AWS_REGION", region);
    env.put("AWS_DEFAULT_REGION", region);
    env.put("AWS_LAMBDA_FUNCTION_NAME", v.functionName());
    env.put("AWS_LAMBDA_FUNCTION_VERSION", v.version());
    env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(v.memorySize()));
    env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + v.functionName());
    env.put("AWS_LAMBDA_LOG_STREAM_NAME", logStream);
    env.put("AWS_LAMBDA_INITIALIZATION_TYPE", initializationType);
    env.put("AWS_LAMBDA_RUNTIME_API", runtimeApi);
    env.put("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR");
    // The runtime catalog adds what depends on the runtime (AWS_EXECUTION_ENV for managed runtimes only).
    runtimeExtras.forEach(env::putIfAbsent);
    return env;
  }
}
