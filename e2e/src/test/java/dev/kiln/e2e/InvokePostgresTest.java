package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.StoreKind;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Invoke does not depend on the metadata store, so PostgreSQL gets one smoke test: a function
 * created, activated, published and invoked (cold, warm, by version) with the aws CLI and the SDK
 * on a server whose metadata lives in PostgreSQL.
 */
class InvokePostgresTest extends InvokeTestBase {
  @Override
  protected StoreKind store() {
    return StoreKind.POSTGRES;
  }

  @Test
  void create_activate_publish_and_invoke_on_postgresql() {
    String name = uniqueName("pg-invoke");
    cli.lambda(
            "create-function",
            "--function-name",
            name,
            "--runtime",
            "python3.12",
            "--handler",
            "lambda_function.lambda_handler",
            "--role",
            ROLE,
            "--zip-file",
            zipFileArg(Functions.pythonEcho()))
        .assertOk();
    cli.lambda("wait", "function-active-v2", "--function-name", name).assertOk();

    Invocation cold = cliInvoke(name, "{\"store\":\"postgres\"}", "--log-type", "Tail");
    assertThat(cold.status()).isEqualTo(200);
    assertThat(cold.json().path("event").path("store").asString()).isEqualTo("postgres");
    assertThat(cold.json().path("functionName").asString()).isEqualTo(name);
    cold.assertLog(true, "echo-line count=1");

    Invocation warm = invoke(name, "{}");
    assertThat(warm.ok().path("count").asInt()).isEqualTo(2);
    warm.assertLog(false, "echo-line count=2");

    String version = cli.lambda("publish-version", "--function-name", name).json().path("Version").asString();
    Invocation published = invoke(name, "{}", b -> b.qualifier(version));
    assertThat(published.executedVersion()).isEqualTo(version);
    JsonNode body = published.ok();
    assertThat(body.path("functionVersion").asString()).isEqualTo(version);
    assertThat(body.path("invokedFunctionArn").asString()).isEqualTo(arn(name) + ":" + version);

    assertThat(awaitLogEvents(name, "echo-line count=2")).isNotEmpty();
  }
}
