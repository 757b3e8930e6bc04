package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.AsyncTestBase;
import dev.kiln.e2e.support.Sdk;
import dev.kiln.e2e.support.Zips;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.lambda.model.FunctionEventInvokeConfig;
import software.amazon.awssdk.services.lambda.model.ListFunctionEventInvokeConfigsResponse;
import tools.jackson.databind.JsonNode;

/**
 * Put/Get/Update/Delete/ListFunctionEventInvokeConfigs through the aws CLI and the SDK, with
 * Lambda's validation errors; and the function's DeadLetterConfig.
 */
class EventInvokeConfigTest extends AsyncTestBase {
  private static final String NOOP = "exports.handler = async () => 'ok';";

  private String noop(String prefix) {
    return deploy(prefix, "nodejs22.x", "index.handler", dev.kiln.e2e.support.Functions.node(NOOP));
  }

  @Test
  void put_get_update_list_and_delete_through_the_cli() {
    String f = noop("eic-crud");
    String target = noop("eic-target");
    cli.lambda("get-function-event-invoke-config", "--function-name", f).assertError("ResourceNotFoundException");

    Instant before = Instant.now().minusSeconds(5);
    JsonNode put = cli.lambda("put-function-event-invoke-config", "--function-name", f,
        "--maximum-retry-attempts", "0", "--maximum-event-age-in-seconds", "3600").json();
    assertThat(put.path("FunctionArn").asString()).isEqualTo(arn(f) + ":$LATEST");
    assertThat(put.path("MaximumRetryAttempts").asInt()).isZero();
    assertThat(put.path("MaximumEventAgeInSeconds").asInt()).isEqualTo(3600);
    assertThat(put.path("DestinationConfig").path("OnSuccess").isObject()).isTrue();
    assertThat(put.path("DestinationConfig").path("OnSuccess").has("Destination")).isFalse();
    assertThat(Instant.parse(put.path("LastModified").asString().replace("+00:00", "Z"))).isAfter(before);

    // Update merges: the limits stay, a destination is added.
    JsonNode updated = cli.lambda("update-function-event-invoke-config", "--function-name", f,
        "--destination-config", destinations(null, arn(target))).json();
    assertThat(updated.path("MaximumRetryAttempts").asInt()).isZero();
    assertThat(updated.path("MaximumEventAgeInSeconds").asInt()).isEqualTo(3600);
    assertThat(updated.path("DestinationConfig").path("OnFailure").path("Destination").asString())
        .isEqualTo(arn(target));
    assertThat(cli.lambda("get-function-event-invoke-config", "--function-name", f).json()).isEqualTo(updated);

    // Put replaces: what it does not name is gone.
    JsonNode replaced = cli.lambda("put-function-event-invoke-config", "--function-name", f,
        "--maximum-retry-attempts", "1").json();
    assertThat(replaced.path("MaximumRetryAttempts").asInt()).isEqualTo(1);
    assertThat(replaced.has("MaximumEventAgeInSeconds")).isFalse();
    assertThat(replaced.path("DestinationConfig").path("OnFailure").has("Destination")).isFalse();

    // Versions and aliases have their own configurations.
    String version = lambda.publishVersion(b -> b.functionName(f)).version();
    lambda.createAlias(b -> b.functionName(f).name("live").functionVersion(version));
    cli.lambda("put-function-event-invoke-config", "--function-name", f, "--qualifier", version,
        "--maximum-retry-attempts", "2").assertOk();
    JsonNode alias = cli.lambda("put-function-event-invoke-config", "--function-name", f + ":live",
        "--maximum-event-age-in-seconds", "60",
        "--destination-config", destinations(arn(target) + ":$LATEST", null)).json();
    assertThat(alias.path("FunctionArn").asString()).isEqualTo(arn(f) + ":live");
    assertThat(cli.lambda("get-function-event-invoke-config", "--function-name", f, "--qualifier", "live").json()
        .path("MaximumEventAgeInSeconds").asInt()).isEqualTo(60);

    JsonNode list = cli.lambda("list-function-event-invoke-configs", "--function-name", f).json();
    List<String> arns = new ArrayList<>();
    list.path("FunctionEventInvokeConfigs").forEach(c -> arns.add(c.path("FunctionArn").asString()));
    assertThat(arns).containsExactlyInAnyOrder(arn(f) + ":$LATEST", arn(f) + ":" + version, arn(f) + ":live");

    cli.lambda("delete-function-event-invoke-config", "--function-name", f, "--qualifier", "live").assertOk();
    cli.lambda("get-function-event-invoke-config", "--function-name", f, "--qualifier", "live")
        .assertError("ResourceNotFoundException");
    cli.lambda("delete-function-event-invoke-config", "--function-name", f, "--qualifier", "live")
        .assertError("ResourceNotFoundException");
    cli.lambda("update-function-event-invoke-config", "--function-name", f, "--qualifier", "live",
        "--maximum-retry-attempts", "1").assertError("ResourceNotFoundException");
  }

  @Test
  void the_sdk_sees_lambdas_shapes_and_pages_the_list() {
    String f = noop("eic-sdk");
    String target = noop("eic-sdk-target");
    var put = lambda.putFunctionEventInvokeConfig(b -> b.functionName(f).maximumRetryAttempts(1)
        .destinationConfig(d -> d.onSuccess(s -> s.destination(arn(target)))));
    assertThat(put.functionArn()).isEqualTo(arn(f) + ":$LATEST");
    assertThat(put.lastModified()).isBetween(Instant.now().minusSeconds(30), Instant.now().plusSeconds(30));
    assertThat(put.maximumRetryAttempts()).isEqualTo(1);
    assertThat(put.maximumEventAgeInSeconds()).isNull();
    assertThat(put.destinationConfig().onSuccess().destination()).isEqualTo(arn(target));
    assertThat(put.destinationConfig().onFailure().destination()).isNull();

    var updated = lambda.updateFunctionEventInvokeConfig(b -> b.functionName(f).maximumEventAgeInSeconds(120)
        .destinationConfig(d -> d.onSuccess(s -> s.destination(""))));
    assertThat(updated.maximumRetryAttempts()).isEqualTo(1);
    assertThat(updated.maximumEventAgeInSeconds()).isEqualTo(120);
    assertThat(updated.destinationConfig().onSuccess().destination()).as("an empty destination removes it").isNull();

    for (int v = 1; v <= 3; v++) {
      String value = "v" + v;
      lambda.updateFunctionConfiguration(b -> b.functionName(f).environment(e -> e.variables(java.util.Map.of("VERSION_TAG", value))));
      awaitUpdated(f);
      String version = lambda.publishVersion(b -> b.functionName(f)).version();
      lambda.putFunctionEventInvokeConfig(b -> b.functionName(f).qualifier(version).maximumRetryAttempts(0));
    }
    List<String> seen = new ArrayList<>();
    String marker = null;
    do {
      String from = marker;
      ListFunctionEventInvokeConfigsResponse page =
          lambda.listFunctionEventInvokeConfigs(b -> b.functionName(f).maxItems(2).marker(from));
      assertThat(page.functionEventInvokeConfigs()).hasSizeLessThanOrEqualTo(2);
      page.functionEventInvokeConfigs().stream().map(FunctionEventInvokeConfig::functionArn).forEach(seen::add);
      marker = page.nextMarker();
    } while (marker != null);
    assertThat(seen).containsExactlyInAnyOrder(arn(f) + ":$LATEST", arn(f) + ":1", arn(f) + ":2", arn(f) + ":3");
    Sdk.expectError(400, "InvalidParameterValueException",
        () -> lambda.listFunctionEventInvokeConfigs(b -> b.functionName(f).maxItems(51)));
  }

  @Test
  void invalid_configurations_get_lambdas_errors() {
    String f = noop("eic-bad");
    String put = "put-function-event-invoke-config";
    cli.lambda(put, "--function-name", f, "--maximum-retry-attempts", "3").assertError("InvalidParameterValueException");
    cli.lambda(put, "--function-name", f, "--maximum-event-age-in-seconds", "21601")
        .assertError("InvalidParameterValueException");
    // The CLI checks minimums itself; the SDK sends them, and the server refuses them.
    Sdk.expectError(400, "InvalidParameterValueException",
        () -> lambda.putFunctionEventInvokeConfig(b -> b.functionName(f).maximumRetryAttempts(-1)));
    Sdk.expectError(400, "InvalidParameterValueException",
        () -> lambda.putFunctionEventInvokeConfig(b -> b.functionName(f).maximumEventAgeInSeconds(59)));
    cli.lambda(put, "--function-name", f, "--destination-config", destinations("not-an-arn", null))
        .assertError("InvalidParameterValueException");
    var sns = cli.lambda(put, "--function-name", f, "--destination-config",
        destinations(null, "arn:aws:sns:us-east-1:" + ACCOUNT + ":topic")).assertError("InvalidParameterValueException");
    assertThat(sns.stderr()).contains("Use a Lambda function ARN or an SQS queue ARN");
    var queue = cli.lambda(put, "--function-name", f, "--destination-config",
        destinations(null, "arn:aws:sqs:us-east-1:" + ACCOUNT + ":failures")).assertError("InvalidParameterValueException");
    assertThat(queue.stderr()).contains("no queue endpoint configured");
    cli.lambda(put, "--function-name", f, "--destination-config",
        destinations("arn:aws:lambda:us-east-1:111111111111:function:elsewhere", null))
        .assertError("InvalidParameterValueException");

    cli.lambda(put, "--function-name", uniqueName("missing"), "--maximum-retry-attempts", "1")
        .assertError("ResourceNotFoundException");
    cli.lambda(put, "--function-name", f, "--qualifier", "9", "--maximum-retry-attempts", "1")
        .assertError("ResourceNotFoundException");
    cli.lambda(put, "--function-name", f, "--qualifier", "no-such-alias", "--maximum-retry-attempts", "1")
        .assertError("ResourceNotFoundException");
    cli.lambda("update-function-event-invoke-config", "--function-name", f, "--maximum-retry-attempts", "1")
        .assertError("ResourceNotFoundException");
    cli.lambda("list-function-event-invoke-configs", "--function-name", uniqueName("missing"))
        .assertError("ResourceNotFoundException");
    // Nothing was stored by the refused calls.
    assertThat(cli.lambda("list-function-event-invoke-configs", "--function-name", f).json()
        .path("FunctionEventInvokeConfigs").size()).isZero();
  }

  @Test
  void deleting_a_function_deletes_its_configurations() {
    String f = noop("eic-gone");
    cli.lambda("put-function-event-invoke-config", "--function-name", f, "--maximum-retry-attempts", "1").assertOk();
    lambda.deleteFunction(b -> b.functionName(f));
    createActiveFunction(f, dev.kiln.e2e.support.Functions.node(NOOP));
    cli.lambda("get-function-event-invoke-config", "--function-name", f).assertError("ResourceNotFoundException");
  }

  @Test
  void the_dead_letter_queue_is_part_of_the_function_configuration() {
    String f = uniqueName("dlq");
    String queue = "arn:aws:sqs:us-east-1:" + ACCOUNT + ":dead-letters";
    JsonNode created = cli.lambda("create-function", "--function-name", f, "--runtime", "nodejs22.x",
        "--role", ROLE, "--handler", "index.handler", "--zip-file", zipFileArg(Zips.nodeFunction()),
        "--dead-letter-config", "TargetArn=" + queue).json();
    assertThat(created.path("DeadLetterConfig").path("TargetArn").asString()).isEqualTo(queue);
    awaitActive(f);
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(f)).deadLetterConfig().targetArn())
        .isEqualTo(queue);
    String version = lambda.publishVersion(b -> b.functionName(f)).version();

    cli.lambda("update-function-configuration", "--function-name", f, "--dead-letter-config",
        "TargetArn=arn:aws:sns:us-east-1:" + ACCOUNT + ":topic").assertError("InvalidParameterValueException");
    cli.lambda("update-function-configuration", "--function-name", f, "--dead-letter-config",
        "TargetArn=nonsense").assertError("InvalidParameterValueException");
    JsonNode cleared = cli.lambda("update-function-configuration", "--function-name", f,
        "--dead-letter-config", "{}").json();
    assertThat(cleared.has("DeadLetterConfig")).isFalse();
    awaitUpdated(f);
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(f)).deadLetterConfig()).isNull();
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(f).qualifier(version)).deadLetterConfig()
        .targetArn()).as("a published version keeps its own").isEqualTo(queue);

    lambda.updateFunctionConfiguration(b -> b.functionName(f).deadLetterConfig(d -> d.targetArn(queue + "-2")));
    awaitUpdated(f);
    assertThat(lambda.getFunctionConfiguration(b -> b.functionName(f)).deadLetterConfig().targetArn())
        .isEqualTo(queue + "-2");
  }
}
