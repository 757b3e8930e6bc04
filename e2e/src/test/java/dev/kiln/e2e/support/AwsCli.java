package dev.kiln.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs the real AWS CLI v2 ({@code /usr/bin/aws}, never the v1 that may shadow it on PATH) against
 * a Kiln server, in a clean environment: only the credentials given here, empty config files, no
 * pager, a single attempt (so error cases return at once).
 */
public final class AwsCli {
  public static final Path AWS = Path.of("/usr/bin/aws");
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Pattern ERROR =
      Pattern.compile("An error occurred \\(([^)]+)\\) when calling the (\\w+) operation");

  private final String endpoint;
  private final Map<String, String> baseEnv;

  private AwsCli(String endpoint, Map<String, String> baseEnv) {
    this.endpoint = endpoint;
    this.baseEnv = baseEnv;
  }

  /** A CLI that signs with the given access key and secret, passed as environment variables. */
  public static AwsCli withKeys(String endpoint, String accessKey, String secretKey, Path home) {
    Map<String, String> env = cleanEnv(home);
    env.put("AWS_ACCESS_KEY_ID", accessKey);
    env.put("AWS_SECRET_ACCESS_KEY", secretKey);
    return new AwsCli(endpoint, env);
  }

  /**
   * A CLI set up as the README's quickstart does: credentials from the server's shared-credentials
   * file and the region from AWS_REGION.
   */
  public static AwsCli withCredentialsFile(String endpoint, Path credentialsFile, Path home) {
    Map<String, String> env = cleanEnv(home);
    env.put("AWS_SHARED_CREDENTIALS_FILE", credentialsFile.toString());
    env.put("AWS_REGION", "us-east-1");
    return new AwsCli(endpoint, env);
  }

  private static Map<String, String> cleanEnv(Path home) {
    try {
      Files.createDirectories(home);
      Path config = home.resolve("empty-config");
      Path credentials = home.resolve("empty-credentials");
      if (!Files.exists(config)) {
        Files.writeString(config, "");
      }
      if (!Files.exists(credentials)) {
        Files.writeString(credentials, "");
      }
      if (!Files.isExecutable(AWS)) {
        throw new IllegalStateException("The AWS CLI v2 is missing at " + AWS);
      }
      Map<String, String> env = new LinkedHashMap<>();
      env.put("PATH", "/usr/bin:/bin");
      env.put("HOME", home.toString());
      env.put("LANG", "C.UTF-8");
      env.put("AWS_CONFIG_FILE", config.toString());
      env.put("AWS_SHARED_CREDENTIALS_FILE", credentials.toString());
      env.put("AWS_PAGER", "");
      env.put("AWS_MAX_ATTEMPTS", "1");
      env.put("AWS_RETRY_MODE", "standard");
      env.put("AWS_EC2_METADATA_DISABLED", "true");
      env.put("AWS_CLI_AUTO_PROMPT", "off");
      return env;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code aws lambda <args> --endpoint-url ... --region us-east-1 --output json ...}. */
  public Result lambda(String... args) {
    List<String> command = new ArrayList<>();
    command.add(AWS.toString());
    command.add("lambda");
    command.addAll(List.of(args));
    command.addAll(
        List.of(
            "--endpoint-url",
            endpoint,
            "--region",
            "us-east-1",
            "--output",
            "json",
            "--cli-binary-format",
            "raw-in-base64-out"));
    return run(command);
  }

  /** Exactly the given arguments after {@code aws} (for the README's calls). */
  public Result raw(String... args) {
    List<String> command = new ArrayList<>();
    command.add(AWS.toString());
    command.addAll(List.of(args));
    return run(command);
  }

  private Result run(List<String> command) {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().clear();
    builder.environment().putAll(baseEnv);
    try {
      Process p = builder.start();
      p.getOutputStream().close();
      CompletableFuture<String> out = readAsync(p.getInputStream());
      CompletableFuture<String> err = readAsync(p.getErrorStream());
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("aws CLI did not finish in 120 s: " + command);
      }
      return new Result(command, p.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static CompletableFuture<String> readAsync(java.io.InputStream in) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        r -> Thread.ofVirtual().start(r));
  }

  /** What one CLI call did. */
  public record Result(List<String> command, int exitCode, String stdout, String stderr) {

    /** stdout as JSON; fails with the whole call if the CLI did not succeed. */
    public JsonNode json() {
      assertOk();
      if (stdout.isBlank()) {
        return JSON.missingNode();
      }
      return JSON.readTree(stdout);
    }

    public Result assertOk() {
      if (exitCode != 0) {
        throw new AssertionError("aws CLI failed: " + this);
      }
      return this;
    }

    /** The error code in parentheses of "An error occurred (Code) when calling ...", or null. */
    public String errorCode() {
      Matcher m = ERROR.matcher(stderr);
      return m.find() ? m.group(1) : null;
    }

    /** Asserts the call failed with the given Lambda error code. */
    public Result assertError(String code) {
      if (exitCode == 0 || !code.equals(errorCode())) {
        throw new AssertionError("expected the aws CLI to fail with (" + code + "), got: " + this);
      }
      return this;
    }

    @Override
    public String toString() {
      return "\n  command: "
          + String.join(" ", command)
          + "\n  exit code: "
          + exitCode
          + "\n  stdout: "
          + stdout.strip()
          + "\n  stderr: "
          + stderr.strip();
    }
  }
}
