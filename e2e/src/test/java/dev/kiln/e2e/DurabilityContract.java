package dev.kiln.e2e;

import static dev.kiln.e2e.support.Sdk.expectError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.KilnTestBase;
import dev.kiln.e2e.support.Zips;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.lambda.model.AliasConfiguration;
import software.amazon.awssdk.services.lambda.model.FunctionConfiguration;
import software.amazon.awssdk.services.lambda.model.GetFunctionResponse;

/**
 * What a client was told is stored survives kill -9: functions, versions, aliases, tags and code,
 * for each store.
 */
abstract class DurabilityContract extends KilnTestBase {

  /** Each test leaves the server running for the next one (and for teardown). */
  @AfterEach
  void serverBackUp() {
    if (!server.isRunning()) {
      server.restart();
      connectClients();
    }
  }

  private void crashAndRestart() {
    server.crash();
    server.restart();
    connectClients();
  }

  @Test
  void everythingTheCliWasToldSurvivesKill9() {
    String name = uniqueName("durable");
    byte[] zip1 = Zips.nodeFunction("one");
    byte[] zip2 = Zips.nodeFunction("two");
    cli.lambda(
            "create-function",
            "--function-name", name,
            "--runtime", "nodejs20.x",
            "--role", ROLE,
            "--handler", "index.handler",
            "--zip-file", zipFileArg(zip1),
            "--publish",
            "--tags", "owner=e2e,kind=durable")
        .assertOk();
    awaitActive(name);
    cli.lambda(
            "update-function-code",
            "--function-name", name,
            "--zip-file", zipFileArg(zip2),
            "--publish")
        .assertOk();
    awaitUpdated(name);
    cli.lambda(
            "create-alias",
            "--function-name", name,
            "--name", "live",
            "--function-version", "1",
            "--routing-config", "{\"AdditionalVersionWeights\":{\"2\":0.25}}")
        .assertOk();
    cli.lambda("tag-resource", "--resource", arn(name), "--tags", "extra=yes").assertOk();
    // Killed right after the CLI returned.
    crashAndRestart();

    GetFunctionResponse latest = lambda.getFunction(b -> b.functionName(name));
    assertThat(latest.configuration().codeSha256()).isEqualTo(Zips.sha256Base64(zip2));
    assertThat(download(latest.code().location())).isEqualTo(zip2);
    assertThat(latest.tags()).isEqualTo(Map.of("owner", "e2e", "kind", "durable", "extra", "yes"));
    assertThat(
            lambda.listVersionsByFunction(b -> b.functionName(name)).versions().stream()
                .map(FunctionConfiguration::version))
        .containsExactly("$LATEST", "1", "2");
    GetFunctionResponse v1 = lambda.getFunction(b -> b.functionName(name).qualifier("1"));
    assertThat(v1.configuration().codeSha256()).isEqualTo(Zips.sha256Base64(zip1));
    assertThat(download(v1.code().location())).isEqualTo(zip1);
    assertThat(download(lambda.getFunction(b -> b.functionName(name + ":2")).code().location()))
        .isEqualTo(zip2);
    var alias = lambda.getAlias(b -> b.functionName(name).name("live"));
    assertThat(alias.functionVersion()).isEqualTo("1");
    assertThat(alias.routingConfig().additionalVersionWeights()).isEqualTo(Map.of("2", 0.25));
    assertThat(lambda.listTags(b -> b.resource(arn(name))).tags()).containsEntry("extra", "yes");
    assertThat(lambda.getAccountSettings().accountUsage().functionCount()).isPositive();

    // The restarted server carries on: new versions number after the old ones.
    lambda.updateFunctionConfiguration(b -> b.functionName(name).timeout(42));
    awaitUpdated(name);
    assertThat(lambda.publishVersion(b -> b.functionName(name)).version()).isEqualTo("3");
  }

  @Test
  void deletesSurviveKill9Too() {
    String name = uniqueName("deleted");
    createFunction(name, Zips.nodeFunction(), b -> b.publish(true));
    awaitActive(name);
    lambda.updateFunctionCode(
        b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(Zips.nodeFunction())).publish(true));
    awaitUpdated(name);
    lambda.createAlias(b -> b.functionName(name).name("a1").functionVersion("1"));
    lambda.createAlias(b -> b.functionName(name).name("a2").functionVersion("2"));
    lambda.deleteAlias(b -> b.functionName(name).name("a2"));
    lambda.deleteFunction(b -> b.functionName(name).qualifier("2"));
    String gone = uniqueName("gone");
    createFunction(gone, Zips.nodeFunction());
    lambda.deleteFunction(b -> b.functionName(gone));
    crashAndRestart();

    expectError(404, "ResourceNotFoundException", () -> lambda.getFunction(b -> b.functionName(gone)));
    assertThat(
            lambda.listVersionsByFunction(b -> b.functionName(name)).versions().stream()
                .map(FunctionConfiguration::version))
        .containsExactly("$LATEST", "1");
    assertThat(lambda.listAliases(b -> b.functionName(name)).aliases().stream()
            .map(AliasConfiguration::name))
        .containsExactly("a1");
  }

  @Test
  void gracefulRestartKeepsEverything() {
    String name = uniqueName("graceful");
    byte[] zip = Zips.pythonFunction();
    createFunction(
        name,
        zip,
        b -> b.runtime("python3.12").handler("lambda_function.lambda_handler").memorySize(300)
            .environment(e -> e.variables(Map.of("KEY", "V"))));
    awaitActive(name);
    assertThat(server.stop()).as("the server exits on SIGTERM").isTrue();
    server.restart();
    connectClients();
    var config = lambda.getFunctionConfiguration(b -> b.functionName(name));
    assertThat(config.memorySize()).isEqualTo(300);
    assertThat(config.environment().variables()).isEqualTo(Map.of("KEY", "V"));
    assertThat(config.state().toString()).isEqualTo("Active");
    assertThat(download(lambda.getFunction(b -> b.functionName(name)).code().location()))
        .isEqualTo(zip);
  }

  @Test
  void acknowledgedCreatesSurviveKill9AtARandomMoment() throws Exception {
    String prefix = uniqueName("loop");
    int attempts = 20;
    Map<String, String> acknowledged = new ConcurrentHashMap<>();
    Map<String, String> uploaded = new ConcurrentHashMap<>();
    // Kill after a random number of acknowledged creates, plus a random few milliseconds, so
    // the kill lands while a create is in flight.
    int killAfter = ThreadLocalRandom.current().nextInt(3, attempts - 3);
    CountDownLatch killPoint = new CountDownLatch(killAfter);
    AtomicReference<SdkException> stoppedBy = new AtomicReference<>();
    long extraDelayMicros = ThreadLocalRandom.current().nextLong(0, 20_000);
    var client = lambda;
    Thread creator =
        Thread.ofPlatform()
            .name("durability-creator")
            .start(
                () -> {
                  for (int i = 0; i < attempts; i++) {
                    String name = prefix + "-" + i;
                    byte[] zip = Zips.nodeFunction("n" + i);
                    try {
                      var created =
                          client.createFunction(
                              b ->
                                  b.functionName(name)
                                      .runtime("nodejs20.x")
                                      .role(ROLE)
                                      .handler("index.handler")
                                      .code(c -> c.zipFile(SdkBytes.fromByteArray(zip))));
                      uploaded.put(name, Zips.sha256Base64(zip));
                      acknowledged.put(name, created.codeSha256());
                      killPoint.countDown();
                    } catch (SdkException e) {
                      // The server was killed under this request (or before it): nothing promised.
                      stoppedBy.set(e);
                      break;
                    }
                  }
                  while (killPoint.getCount() > 0) {
                    killPoint.countDown();
                  }
                });
    assertThat(killPoint.await(60, TimeUnit.SECONDS)).isTrue();
    assertThat(acknowledged.size())
        .as("creates acknowledged before the kill (client stopped by %s)", stoppedBy.get())
        .isGreaterThanOrEqualTo(killAfter);
    TimeUnit.MICROSECONDS.sleep(extraDelayMicros);
    server.crash();
    creator.join(TimeUnit.SECONDS.toMillis(60));
    assertThat(creator.isAlive()).isFalse();
    assertThat(acknowledged).as("CodeSha256 in the create responses").isEqualTo(uploaded);

    server.restart();
    connectClients();
    for (var e : acknowledged.entrySet()) {
      String name = e.getKey();
      GetFunctionResponse got = lambda.getFunction(b -> b.functionName(name));
      assertThat(got.configuration().codeSha256()).as(name).isEqualTo(e.getValue());
      assertThat(Zips.sha256Base64(download(got.code().location()))).as(name).isEqualTo(e.getValue());
    }
    // Whatever was in flight is either fully there or not there at all.
    List<FunctionConfiguration> listed =
        lambda.listFunctionsPaginator(b -> b.maxItems(50)).functions().stream()
            .filter(f -> f.functionName().startsWith(prefix + "-"))
            .toList();
    assertThat(listed.stream().map(FunctionConfiguration::functionName))
        .containsAll(acknowledged.keySet());
    assertThat(listed.size()).isLessThanOrEqualTo(acknowledged.size() + 1);
    for (FunctionConfiguration f : listed) {
      if (!acknowledged.containsKey(f.functionName())) {
        GetFunctionResponse inFlight = lambda.getFunction(b -> b.functionName(f.functionName()));
        assertThat(Zips.sha256Base64(download(inFlight.code().location())))
            .as("the in-flight function's code")
            .isEqualTo(inFlight.configuration().codeSha256());
      }
    }
  }
}
