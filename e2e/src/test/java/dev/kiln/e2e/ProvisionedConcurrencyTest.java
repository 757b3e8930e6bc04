package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyConfigNotFoundException;
import software.amazon.awssdk.services.lambda.model.ProvisionedConcurrencyStatusEnum;

/**
 * Provisioned concurrency through the aws CLI and the SDK: environments initialized ahead (with
 * AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency), served warm, restored after a kill -9.
 */
class ProvisionedConcurrencyTest extends InvokeTestBase {
  private static final String REPORTS_INIT_TYPE =
      "exports.handler = async () => ({ init: process.env.AWS_LAMBDA_INITIALIZATION_TYPE });";

  @Test
  void provisionedEnvironmentsAreReadyServedWarmAndSurviveARestart() {
    String name = deploy("prov", "nodejs22.x", "index.handler", Functions.node(REPORTS_INIT_TYPE));
    String version = lambda.publishVersion(b -> b.functionName(name)).version();
    lambda.createAlias(b -> b.functionName(name).name("live").functionVersion(version));

    var put = cli.lambda("put-provisioned-concurrency-config", "--function-name", name, "--qualifier", "live",
        "--provisioned-concurrent-executions", "2").assertOk().json();
    assertThat(put.path("RequestedProvisionedConcurrentExecutions").asInt()).isEqualTo(2);
    assertThat(put.path("Status").asString()).isIn("IN_PROGRESS", "READY");
    awaitReady(name);

    var warm = invoke(name + ":live", "{}");
    assertThat(warm.ok().path("init").asString()).isEqualTo("provisioned-concurrency");
    assertThat(warm.hasInitDuration()).as("a provisioned environment was initialized ahead").isFalse();

    var list = cli.lambda("list-provisioned-concurrency-configs", "--function-name", name).assertOk().json();
    assertThat(list.path("ProvisionedConcurrencyConfigs").get(0).path("FunctionArn").asString())
        .endsWith(":function:" + name + ":live");
    assertThat(list.path("ProvisionedConcurrencyConfigs").get(0).path("AllocatedProvisionedConcurrentExecutions")
        .asInt()).isEqualTo(2);

    server.crash();
    server.restart();
    awaitReady(name);
    var afterRestart = invoke(name + ":live", "{}");
    assertThat(afterRestart.ok().path("init").asString()).isEqualTo("provisioned-concurrency");
    assertThat(afterRestart.hasInitDuration()).isFalse();

    lambda.deleteProvisionedConcurrencyConfig(b -> b.functionName(name).qualifier("live"));
    assertThatThrownBy(() -> lambda.getProvisionedConcurrencyConfig(b -> b.functionName(name).qualifier("live")))
        .isInstanceOf(ProvisionedConcurrencyConfigNotFoundException.class);
  }

  @Test
  void unpublishedVersionsAndBadCountsAreRefused() {
    String name = deploy("prov-bad", "nodejs22.x", "index.handler", Functions.node(REPORTS_INIT_TYPE));
    assertThatThrownBy(() -> lambda.putProvisionedConcurrencyConfig(
        b -> b.functionName(name).qualifier("$LATEST").provisionedConcurrentExecutions(1)))
        .isInstanceOf(InvalidParameterValueException.class)
        .hasMessageContaining("unpublished");
    String version = lambda.publishVersion(b -> b.functionName(name)).version();
    cli.lambda("get-provisioned-concurrency-config", "--function-name", name, "--qualifier", version)
        .assertError("ProvisionedConcurrencyConfigNotFoundException");
  }

  private void awaitReady(String name) {
    Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
        lambda.getProvisionedConcurrencyConfig(b -> b.functionName(name).qualifier("live")).status()
            == ProvisionedConcurrencyStatusEnum.READY);
  }
}
