package dev.kiln.control;

import static dev.kiln.core.KilnException.invalid;

import dev.kiln.core.EnvironmentModes;
import dev.kiln.core.KilnException;
import dev.kiln.core.Limits;
import dev.kiln.core.Runtimes;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** Lambda's validation of function configuration, with Lambda's messages. */
final class ConfigurationRules {
  private ConfigurationRules() {}

  private static final Pattern ROLE =
      Pattern.compile("arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
  private static final Pattern HANDLER = Pattern.compile("[^\\s]{1,128}");
  private static final Pattern ENV_KEY = Pattern.compile("[a-zA-Z]([a-zA-Z0-9_])+");
  private static final Set<String> RESERVED_ENV = Set.of(
      "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR");
  private static final Set<String> ARCHITECTURES = Set.of("x86_64", "arm64");
  private static final Pattern RESOURCE_ARN = Pattern.compile("arn:(aws[a-zA-Z-]*)?:([a-z0-9-.]+):.*");

  /** Checks every field the change sets; on create, also that the required ones are there. */
  static void check(ConfigurationChange c, boolean creating) {
    if (creating) {
      if (c.role() == null) {
        throw invalid("1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null");
      }
      if (c.runtime() == null || c.handler() == null) {
        throw invalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
      }
    }
    if (c.runtime() != null && !Runtimes.ACCEPTED.contains(c.runtime())) {
      throw invalid("Value " + c.runtime() + " at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
          + new TreeSet<>(Runtimes.ACCEPTED) + " or be a valid ARN");
    }
    if (c.handler() != null && !HANDLER.matcher(c.handler()).matches()) {
      throw invalid("1 validation error detected: Value '" + c.handler()
          + "' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+");
    }
    if (c.role() != null && !ROLE.matcher(c.role()).matches()) {
      throw invalid("1 validation error detected: Value '" + c.role()
          + "' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: "
          + ROLE.pattern());
    }
    range("memorySize", c.memorySize(), Limits.MIN_MEMORY_MB, Limits.MAX_MEMORY_MB);
    range("timeout", c.timeout(), Limits.MIN_TIMEOUT_S, Limits.MAX_TIMEOUT_S);
    range("ephemeralStorage.size", c.ephemeralStorageSize(), Limits.MIN_EPHEMERAL_MB, Limits.MAX_EPHEMERAL_MB);
    if (c.description() != null && c.description().length() > Limits.MAX_DESCRIPTION_LENGTH) {
      throw invalid("1 validation error detected: Value at 'description' failed to satisfy constraint: "
          + "Member must have length less than or equal to " + Limits.MAX_DESCRIPTION_LENGTH);
    }
    if (c.environment() != null) {
      checkEnvironment(c.environment());
    }
    if (c.architectures() != null) {
      checkArchitectures(c.architectures());
    }
    if (c.deadLetterTargetArn() != null && !c.deadLetterTargetArn().isEmpty()) {
      checkDeadLetterTarget(c.deadLetterTargetArn());
    }
  }

  /** Lambda takes an SQS queue or an SNS topic; Kiln delivers dead letters to queues only. */
  private static void checkDeadLetterTarget(String arn) {
    var matcher = RESOURCE_ARN.matcher(arn);
    if (!matcher.matches()) {
      throw invalid("1 validation error detected: Value '" + arn + "' at 'deadLetterConfig.targetArn' failed to "
          + "satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()");
    }
    if (!matcher.group(2).equals("sqs") || !SqsArns.isQueue(arn)) {
      throw invalid("The dead-letter target " + arn + " is not an SQS queue ARN (arn:aws:sqs:region:account:name). "
          + "Kiln delivers dead letters to SQS queues only.");
    }
  }

  static void checkArchitectures(List<String> architectures) {
    if (architectures.size() != 1 || !ARCHITECTURES.contains(architectures.getFirst())) {
      throw invalid("1 validation error detected: Value '" + architectures
          + "' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1, "
          + "and each member must be one of [x86_64, arm64]");
    }
  }

  private static void checkEnvironment(Map<String, String> environment) {
    var reserved = new TreeSet<String>();
    int bytes = 0;
    for (var entry : environment.entrySet()) {
      if (!ENV_KEY.matcher(entry.getKey()).matches()) {
        throw invalid("1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: "
            + "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]");
      }
      if (RESERVED_ENV.contains(entry.getKey())) {
        reserved.add(entry.getKey());
      }
      bytes += entry.getKey().getBytes(StandardCharsets.UTF_8).length
          + (entry.getValue() == null ? 0 : entry.getValue().getBytes(StandardCharsets.UTF_8).length);
    }
    if (!reserved.isEmpty()) {
      throw invalid("Lambda was unable to configure your environment variables because the environment variables "
          + "you have provided contains reserved keys that are currently not supported for modification. "
          + "Reserved keys used in this request: " + String.join(", ", reserved));
    }
    if (bytes > Limits.MAX_ENVIRONMENT_BYTES) {
      throw invalid("Lambda was unable to configure your environment variables because the environment variables "
          + "you have provided exceeded the 4KB limit. String measured: " + bytes);
    }
    checkEnvironmentModes(environment);
  }

  /** Kiln's reserved KILN_* variables choose how environments are used; a bad value is refused now, not at invoke. */
  private static void checkEnvironmentModes(Map<String, String> environment) {
    var modes = EnvironmentModes.of(environment);
    if (modes.retrySuccessPattern() != null) {
      try {
        FilterPattern.parse(modes.retrySuccessPattern());
      } catch (KilnException e) {
        throw invalid(EnvironmentModes.RETRY_SUCCESS_VARIABLE + ": " + e.getMessage());
      }
    }
  }

  private static void range(String field, Integer value, int min, int max) {
    if (value == null) {
      return;
    }
    if (value < min) {
      throw invalid("1 validation error detected: Value '" + value + "' at '" + field
          + "' failed to satisfy constraint: Member must have value greater than or equal to " + min);
    }
    if (value > max) {
      throw invalid("1 validation error detected: Value '" + value + "' at '" + field
          + "' failed to satisfy constraint: Member must have value less than or equal to " + max);
    }
  }

  static void checkTags(Map<String, String> tags) {
    if (tags.size() > Limits.MAX_TAGS) {
      throw invalid("Number of tags exceeds resource tag limit.");
    }
    for (var entry : tags.entrySet()) {
      if (entry.getKey().isEmpty() || entry.getKey().length() > 128 || entry.getKey().startsWith("aws:")) {
        throw invalid("Tag key is invalid: '" + entry.getKey() + "'");
      }
      if (entry.getValue() != null && entry.getValue().length() > 256) {
        throw invalid("Tag value for key '" + entry.getKey() + "' is longer than 256 characters.");
      }
    }
  }
}
