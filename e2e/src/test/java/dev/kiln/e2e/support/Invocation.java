package dev.kiln.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What one Invoke returned, from the SDK or the CLI: status, X-Amz-Function-Error,
 * X-Amz-Executed-Version, the payload and the decoded X-Amz-Log-Result.
 */
public record Invocation(int status, String functionError, String executedVersion, String payload, String log) {
  private static final JsonMapper JSON = JsonMapper.builder().build();
  /** Lambda's REPORT line; Init Duration only after a cold start. */
  private static final Pattern REPORT =
      Pattern.compile(
          "REPORT RequestId: ([0-9a-f-]{36})\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\t"
              + "Memory Size: (\\d+) MB\\tMax Memory Used: \\d+ MB\\t((?:Init|Restore) Duration: \\d+\\.\\d{2} ms\\t)?");
  private static final Pattern START = Pattern.compile("START RequestId: ([0-9a-f-]{36}) Version: (\\S+)");

  public static Invocation of(InvokeResponse r) {
    return new Invocation(
        r.statusCode(),
        r.functionError(),
        r.executedVersion(),
        r.payload() == null ? "" : r.payload().asUtf8String(),
        decode(r.logResult()));
  }

  public static String decode(String base64) {
    return base64 == null ? null : new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }

  public JsonNode json() {
    return JSON.readTree(payload);
  }

  /** Asserts a 200 without a function error; returns the payload as JSON. */
  public JsonNode ok() {
    assertThat(status).as("status of %s", this).isEqualTo(200);
    assertThat(functionError).as("X-Amz-Function-Error of %s", this).isNull();
    return json();
  }

  /** Asserts a 200 with X-Amz-Function-Error: Unhandled and the given errorType; returns the error. */
  public JsonNode unhandled(String errorType) {
    assertThat(status).as("status of %s", this).isEqualTo(200);
    assertThat(functionError).as("X-Amz-Function-Error of %s", this).isEqualTo("Unhandled");
    JsonNode error = json();
    assertThat(error.path("errorType").asString()).as("errorType of %s", this).isEqualTo(errorType);
    return error;
  }

  /** The request id of the START line of the tail log. */
  public String requestId() {
    assertThat(log).as("log tail").isNotNull();
    Matcher m = START.matcher(log);
    assertThat(m.find()).as("START line in %s", log).isTrue();
    return m.group(1);
  }

  public boolean hasInitDuration() {
    Matcher m = REPORT.matcher(log == null ? "" : log);
    assertThat(m.find()).as("REPORT line in %s", log).isTrue();
    return m.group(3) != null;
  }

  /**
   * Asserts the tail is Lambda's: START (with this version), the given lines the function printed,
   * END and REPORT for the same request, in that order; with Init Duration exactly when {@code
   * cold}.
   */
  public Invocation assertLog(boolean cold, String... printed) {
    assertThat(log).as("X-Amz-Log-Result of %s", this).isNotNull();
    String id = requestId();
    Matcher start = START.matcher(log);
    start.find();
    if (executedVersion != null) {
      assertThat(start.group(2)).as("START Version in %s", log).isEqualTo(executedVersion);
    }
    int startAt = log.indexOf("START RequestId: " + id);
    int endAt = log.indexOf("END RequestId: " + id);
    int reportAt = log.indexOf("REPORT RequestId: " + id);
    assertThat(startAt).as("START in %s", log).isGreaterThanOrEqualTo(0);
    assertThat(endAt).as("END after START in %s", log).isGreaterThan(startAt);
    assertThat(reportAt).as("REPORT after END in %s", log).isGreaterThan(endAt);
    Matcher report = REPORT.matcher(log);
    assertThat(report.find()).as("REPORT line format in %s", log).isTrue();
    assertThat(report.group(1)).isEqualTo(id);
    assertThat(report.group(3) != null)
        .as("Init Duration present (cold=%s) in %s", cold, log)
        .isEqualTo(cold);
    for (String line : printed) {
      int at = log.indexOf(line, startAt);
      assertThat(at).as("'%s' between START and END in %s", line, log).isGreaterThan(startAt).isLessThan(endAt);
    }
    return this;
  }

  /** Log lines (for messages). */
  public List<String> logLines() {
    return log == null ? List.of() : log.lines().toList();
  }
}
