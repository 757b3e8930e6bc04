package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.Invocation;
import dev.kiln.e2e.support.InvokeTestBase;
import dev.kiln.e2e.support.KilnServer;
import dev.kiln.e2e.support.SignedHttp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Pre-trigger hints: {@code kiln warm FUNCTION --count N} (the CLI's signed call to {@code POST
 * /kiln/v1/functions/{name}/warm}) readies N environments, so the next N concurrent invokes are
 * warm; hints are capped by reserved concurrency and checked like every Lambda call; the node
 * reports its warming policy and what it learnt per function.
 */
class WarmHintTest extends InvokeTestBase {
  @Override
  protected List<String> serverArgs() {
    return List.of("--warming", "histogram");
  }

  /** Sleeps so that three invocations overlap and each needs its own environment. */
  private static final String SLOW =
      """
      const crypto = require('node:crypto');
      const envId = crypto.randomUUID();
      exports.handler = async (event) => {
        await new Promise(r => setTimeout(r, 700));
        return { envId };
      };
      """;

  private String slow(String prefix) {
    return deploy(prefix, "nodejs22.x", "index.handler", Functions.node(SLOW));
  }

  @Test
  void aHintMakesTheNextInvokesWarm() throws Exception {
    String name = slow("warm-hint");
    long coldBefore = workerStats().path("coldStarts").asLong();

    CliRun warm = kiln("warm", name, "--count", "3", "--within", "30s");
    assertThat(warm.exitCode()).as("kiln warm: %s", warm).isZero();
    assertThat(warm.stdout()).contains(name + ":$LATEST: 3 of 3 environments ready (0 already warm, 3 started)");
    assertThat(workerStats().path("coldStarts").asLong()).as("a hint is no cold start").isEqualTo(coldBefore);

    List<Invocation> calls = concurrently(3, () -> invoke(name, "{}"));
    for (Invocation call : calls) {
      call.ok();
      assertThat(call.hasInitDuration()).as("REPORT of a hinted environment: %s", call.log()).isFalse();
    }
    assertThat(calls.stream().map(c -> c.json().path("envId").asString()).distinct())
        .as("three environments served").hasSize(3);
    assertThat(workerStats().path("coldStarts").asLong()).isEqualTo(coldBefore);

    JsonNode warming = warming(name);
    assertThat(warming.path("Policy").asString()).startsWith("histogram(");
    JsonNode version = warming.path("Versions").get(0);
    assertThat(version.path("Version").asString()).isEqualTo("$LATEST");
    assertThat(version.path("Hinted").path("Started").asInt()).isEqualTo(3);
    assertThat(version.path("Hinted").path("Used").asInt()).isEqualTo(3);
    assertThat(version.path("IdleEnvironments").asInt()).isEqualTo(3);

    // Hinting again counts what is warm already.
    CliRun again = kiln("warm", name, "--count", "2");
    assertThat(again.stdout()).as("%s", again).contains("2 of 2 environments ready (2 already warm, 0 started)");
  }

  @Test
  void aHintBeyondReservedConcurrencyIsCapped() {
    String name = slow("warm-capped");
    lambda.putFunctionConcurrency(b -> b.functionName(name).reservedConcurrentExecutions(2));
    CliRun warm = kiln("warm", name, "--count", "5");
    assertThat(warm.exitCode()).as("%s", warm).isZero();
    assertThat(warm.stdout())
        .contains("2 of 5 environments ready (0 already warm, 2 started)")
        .contains("fewer than requested: the function's reserved concurrency is 2");
    assertThat(warming(name).path("Versions").get(0).path("IdleEnvironments").asInt()).isEqualTo(2);
  }

  @Test
  void hintsAreCheckedLikeAnyLambdaCall() {
    CliRun unknown = kiln("warm", uniqueName("nobody"), "--count", "2");
    assertThat(unknown.exitCode()).as("%s", unknown).isNotZero();
    assertThat(unknown.stderr()).contains("ResourceNotFoundException");

    String name = slow("warm-checks");
    SignedHttp.Response zero = http.send("POST", "/kiln/v1/functions/" + name + "/warm", "{\"Count\":0}");
    assertThat(zero.status()).as("%s", zero).isEqualTo(400);
    assertThat(zero.errorType()).isEqualTo("InvalidParameterValueException");
    assertThat(zero.json().path("message").asString()).contains("Count must be an integer from 1 to 1000");

    SignedHttp.Response missing = http.send("POST", "/kiln/v1/functions/" + name + "/warm", "{}");
    assertThat(missing.errorType()).isEqualTo("InvalidParameterValueException");

    SignedHttp.Response late = http.send("POST", "/kiln/v1/functions/" + name + "/warm",
        "{\"Count\":1,\"WithinSeconds\":100000}");
    assertThat(late.errorType()).as("%s", late).isEqualTo("InvalidParameterValueException");

    SignedHttp.Response noAlias = http.send("POST", "/kiln/v1/functions/" + name + "/warm",
        "{\"Count\":1,\"Qualifier\":\"nope\"}");
    assertThat(noAlias.status()).as("%s", noAlias).isEqualTo(404);

    CliRun badCount = kiln("warm", name, "--count", "0");
    assertThat(badCount.exitCode()).isNotZero();
    assertThat(badCount.stderr()).contains("InvalidParameterValueException");

    SignedHttp.Response state = http.send("GET", "/kiln/v1/functions/" + uniqueName("nobody") + "/warming",
        (byte[]) null);
    assertThat(state.status()).isEqualTo(404);
    assertThat(state.errorType()).isEqualTo("ResourceNotFoundException");
  }

  @Test
  void theNodeReportsItsPolicyAndAnUnknownPolicyIsRefused() throws Exception {
    assertThat(workerStats().path("warmingPolicy").asString()).isEqualTo("histogram(4h, fallback 10m)");
    assertThat(workerStats().path("warming").has("prewarmsStarted")).isTrue();

    Path data = Files.createDirectories(workDir.resolve("bad-flag"));
    ProcessBuilder builder = new ProcessBuilder(javaBin(), "-jar", KilnServer.jar().toString(), "up",
        "--port", String.valueOf(KilnServer.freePort()), "--data-dir", data.toString(), "--warming", "lru");
    builder.redirectErrorStream(true);
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isEqualTo(2);
    assertThat(out).contains("--warming must be 'fixed' or 'histogram', not 'lru'.");
    // The refusal comes after the sandbox backend started: it must leave none of its host state behind.
    assertThat(leftHostState(data.resolve("sandboxes"))).as(out).isEmpty();
  }

  /** The cgroups and nftables table of the sandbox backend on {@code root} that are still there. */
  private static List<String> leftHostState(Path root) throws Exception {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    var digest = java.security.MessageDigest.getInstance("SHA-256")
        .digest(root.toRealPath().toString().getBytes(StandardCharsets.UTF_8));
    String hash = java.util.HexFormat.of().formatHex(digest).substring(0, 12);
    var left = new ArrayList<String>();
    Path cgroup = Path.of("/sys/fs/cgroup/memory/kiln", hash);
    if (Files.exists(cgroup)) {
      left.add(cgroup.toString());
    }
    var nft = new ProcessBuilder("nft", "list", "tables").redirectErrorStream(true).start();
    String tables = new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    nft.waitFor(10, TimeUnit.SECONDS);
    if (tables.contains("kiln_" + hash)) {
      left.add("nft table inet kiln_" + hash);
    }
    return left;
  }

  private JsonNode warming(String name) {
    SignedHttp.Response r = http.send("GET", "/kiln/v1/functions/" + name + "/warming", (byte[]) null);
    assertThat(r.status()).as("GET warming: %s", r).isEqualTo(200);
    return r.json();
  }

  private record CliRun(int exitCode, String stdout, String stderr) {}

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** {@code java -jar kiln.jar ARGS --endpoint URL} with the keys in the environment. */
  private CliRun kiln(String... args) {
    List<String> command = new ArrayList<>(List.of(javaBin(), "-jar", KilnServer.jar().toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("--endpoint", server.endpoint()));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("KILN_"));
    builder.environment().put("AWS_ACCESS_KEY_ID", accessKey);
    builder.environment().put("AWS_SECRET_ACCESS_KEY", secretKey);
    builder.directory(workDir.toFile());
    try {
      Process p = builder.start();
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
        try {
          return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
          return e.toString();
        }
      });
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kiln %s finished", String.join(" ", args)).isTrue();
      return new CliRun(p.exitValue(), out, err.get(10, TimeUnit.SECONDS));
    } catch (Exception e) {
      throw new IllegalStateException("could not run kiln " + String.join(" ", args), e);
    }
  }
}
