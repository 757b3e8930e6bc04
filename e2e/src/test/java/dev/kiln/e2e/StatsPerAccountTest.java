package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.Credential;
import dev.kiln.e2e.support.Accounts;
import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.Sdk;
import dev.kiln.e2e.support.SignedHttp;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.FunctionCode;
import software.amazon.awssdk.services.lambda.model.State;
import software.amazon.awssdk.services.lambda.model.TooManyRequestsException;
import tools.jackson.databind.JsonNode;

/**
 * {@code GET /kiln/v1/stats} shows each account its own figures only: a second account (a row in
 * the credentials table) sees none of the first account's environments, starts, memory, throttles
 * or functions, and the first sees none of the second's.
 */
class StatsPerAccountTest extends InvokeTestBase {
  private static final String OTHER_ACCOUNT = "111122223333";

  private Credential other;
  private LambdaClient otherLambda;
  private SignedHttp otherHttp;

  @BeforeAll
  void addSecondAccount() {
    other = Accounts.addCredential(server.dataDir(), OTHER_ACCOUNT);
    otherLambda = Sdk.lambda(server.endpoint(), other.accessKeyId(), other.secretAccessKey());
    otherHttp = new SignedHttp(server.endpoint(), other.accessKeyId(), other.secretAccessKey());
  }

  @AfterAll
  void closeClient() {
    otherLambda.close();
  }

  private static JsonNode stats(SignedHttp client) {
    SignedHttp.Response r = client.send("GET", "/kiln/v1/stats", (byte[]) null);
    assertThat(r.status()).as("GET /kiln/v1/stats: %s", r).isEqualTo(200);
    return r.json();
  }

  @Test
  void an_account_never_sees_another_accounts_activity() {
    JsonNode otherBefore = stats(otherHttp);
    assertThat(otherBefore.path("account").asString()).isEqualTo(OTHER_ACCOUNT);

    // The first account: a cold start, warm starts, a throttle, an environment kept warm.
    String busy = deploy("stats-first", "nodejs22.x", "index.handler", Functions.nodeEcho());
    for (int i = 0; i < 3; i++) {
      assertThat(invoke(busy, "{}").functionError()).isNull();
    }
    String throttled = deploy("stats-throttled", "nodejs22.x", "index.handler", Functions.nodeEcho());
    lambda.putFunctionConcurrency(b -> b.functionName(throttled).reservedConcurrentExecutions(0));
    try {
      lambda.invoke(b -> b.functionName(throttled).payload(SdkBytes.fromUtf8String("{}")));
    } catch (TooManyRequestsException expected) {
      // counted below
    }

    JsonNode first = stats(http);
    assertThat(first.path("account").asString()).isEqualTo(ACCOUNT);
    assertThat(first.path("worker").path("coldStarts").asLong()).isGreaterThanOrEqualTo(1);
    assertThat(first.path("worker").path("warmStarts").asLong()).isGreaterThanOrEqualTo(2);
    assertThat(first.path("worker").path("committedMemoryMb").asLong()).isGreaterThanOrEqualTo(256);
    assertThat(first.path("throttles").path("ReservedFunctionConcurrentInvocationLimitExceeded").asLong())
        .isGreaterThanOrEqualTo(1);
    assertThat(first.path("functionConcurrency").has(busy)).isTrue();

    JsonNode otherAfter = stats(otherHttp);
    assertNothingOf(otherAfter, busy, throttled);
    assertThat(otherAfter).as("the second account's view did not move").isEqualTo(otherBefore);

    // The second account's own activity shows in its view and not in the first's.
    long firstCold = first.path("worker").path("coldStarts").asLong();
    long firstWarm = first.path("worker").path("warmStarts").asLong();
    String own = deployAsOther("stats-second");
    otherLambda.invoke(b -> b.functionName(own).payload(SdkBytes.fromUtf8String("{}")));
    JsonNode second = stats(otherHttp);
    assertThat(second.path("worker").path("coldStarts").asLong()).isEqualTo(1);
    assertThat(second.path("worker").path("warmStarts").asLong()).isZero();
    assertThat(second.path("worker").path("committedMemoryMb").asLong()).isEqualTo(128);
    assertThat(second.path("functionConcurrency").has(own)).isTrue();
    assertNothingOf(second, busy, throttled);
    JsonNode firstAgain = stats(http);
    assertThat(firstAgain.path("worker").path("coldStarts").asLong()).isEqualTo(firstCold);
    assertThat(firstAgain.path("worker").path("warmStarts").asLong()).isEqualTo(firstWarm);
    assertThat(firstAgain.path("functionConcurrency").has(own)).isFalse();
  }

  /** No figure of the first account's functions in {@code view}: their names, starts, memory, throttles. */
  private static void assertNothingOf(JsonNode view, String... firstAccountFunctions) {
    for (String name : firstAccountFunctions) {
      assertThat(view.path("functionConcurrency").has(name)).as("%s in %s", name, view).isFalse();
    }
    List<String> throttleCounts = new ArrayList<>();
    view.path("throttles").properties().forEach(e -> throttleCounts.add(e.getKey() + "=" + e.getValue().asLong()));
    assertThat(throttleCounts).as("throttles in %s", view).allMatch(t -> t.endsWith("=0"));
    JsonNode worker = view.path("worker");
    assertThat(worker.path("warmStarts").asLong()).as("%s", view).isZero();
    assertThat(worker.path("restores").asLong()).isZero();
    assertThat(worker.path("zygotes").asLong()).isZero();
    assertThat(worker.path("warming").path("prewarmsStarted").asLong()).isZero();
  }

  private String deployAsOther(String prefix) {
    String name = uniqueName(prefix);
    otherLambda.createFunction(b -> b.functionName(name).runtime("nodejs22.x").handler("index.handler")
        .role("arn:aws:iam::" + OTHER_ACCOUNT + ":role/kiln-e2e").memorySize(128)
        .code(FunctionCode.builder().zipFile(SdkBytes.fromByteArray(Functions.nodeEcho())).build()));
    org.awaitility.Awaitility.await("function " + name + " Active").atMost(java.time.Duration.ofSeconds(30))
        .until(() -> otherLambda.getFunctionConfiguration(b -> b.functionName(name)).state() == State.ACTIVE);
    return name;
  }
}
