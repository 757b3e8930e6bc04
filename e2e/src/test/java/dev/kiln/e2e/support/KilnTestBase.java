package dev.kiln.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.CreateFunctionRequest;
import software.amazon.awssdk.services.lambda.model.CreateFunctionResponse;
import software.amazon.awssdk.services.lambda.model.FunctionCode;
import software.amazon.awssdk.services.lambda.model.GetFunctionConfigurationResponse;
import software.amazon.awssdk.services.lambda.model.LastUpdateStatus;
import software.amazon.awssdk.services.lambda.model.State;

/**
 * One Kiln server per test class (per store), started from the built jar with a fresh data
 * directory (and a fresh PostgreSQL database for {@link StoreKind#POSTGRES}), plus an SDK client,
 * an aws CLI runner and a raw signed HTTP client pointed at it. Everything is torn down after the
 * class, whatever happened.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class KilnTestBase {
  public static final String ACCOUNT = "000000000000";
  public static final String REGION = "us-east-1";
  public static final String ROLE = "arn:aws:iam::000000000000:role/kiln-e2e";
  public static final String DEV_KEY = "test";
  public static final String DEV_SECRET = "test";
  /** Lambda's LastModified format, e.g. 2026-11-23T04:10:12.345+0000. */
  public static final String LAST_MODIFIED_PATTERN =
      "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}\\+0000";

  protected Path workDir;
  protected StoreFixture storeFixture;
  protected KilnServer server;
  protected String accessKey = DEV_KEY;
  protected String secretKey = DEV_SECRET;
  protected LambdaClient lambda;
  protected AwsCli cli;
  protected SignedHttp http;

  @RegisterExtension
  final TestWatcher serverLogOnFailure =
      new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
          if (server != null) {
            String out = server.output();
            System.err.printf(
                "%n===== Kiln output (%s, last 12000 chars) for failed test %s =====%n%s%n=====%n",
                store(),
                context.getDisplayName(),
                out.substring(Math.max(0, out.length() - 12_000)));
          }
        }
      };

  /** The store this concrete class runs against. */
  protected abstract StoreKind store();

  /** Whether to start the server with --dev-credentials (key "test", secret "test"). */
  protected boolean devCredentials() {
    return true;
  }

  /**
   * More {@code kiln up} options for this class's server (e.g. {@code --concurrency 20}), appended
   * after the store, credentials and region options. None by default.
   */
  protected List<String> serverArgs() {
    return List.of();
  }

  /**
   * Whether this class's server starts environments from start-up snapshots. Off by default: most suites
   * specify how a booted environment behaves (init output in the first log, init-time ids unique per
   * environment), which a restore changes on purpose; SnapshotsTest and the environment modes test turn it on.
   */
  protected boolean snapshots() {
    return false;
  }

  @BeforeAll
  final void startKiln() throws IOException {
    workDir = Files.createTempDirectory("kiln-e2e-");
    storeFixture = StoreFixture.create(store());
    List<String> args = new ArrayList<>(storeFixture.serverArgs());
    if (devCredentials()) {
      args.add("--dev-credentials");
    }
    args.addAll(List.of("--region", REGION, "--snapshots", snapshots() ? "auto" : "off"));
    args.addAll(serverArgs());
    Path data = Files.createDirectories(workDir.resolve("data"));
    server = KilnServer.start(data, args);
    storeFixture.assertUsedByServer();
    if (!devCredentials()) {
      Map<String, String> generated = Credentials.read(data.resolve("credentials"));
      accessKey = generated.get("aws_access_key_id");
      secretKey = generated.get("aws_secret_access_key");
    }
    connectClients();
  }

  /** (Re)creates the clients for the current server endpoint and keys. */
  protected void connectClients() {
    if (lambda != null) {
      lambda.close();
    }
    lambda = Sdk.lambda(server.endpoint(), accessKey, secretKey);
    cli = AwsCli.withKeys(server.endpoint(), accessKey, secretKey, workDir.resolve("cli-home"));
    http = new SignedHttp(server.endpoint(), accessKey, secretKey);
  }

  @AfterAll
  final void stopKiln() {
    List<Throwable> problems = new ArrayList<>();
    run(problems, () -> {
      if (lambda != null) {
        lambda.close();
      }
    });
    run(problems, () -> {
      if (server != null) {
        server.close();
        saveServerOutput();
      }
    });
    run(problems, () -> {
      if (storeFixture != null) {
        storeFixture.close();
      }
    });
    run(problems, () -> deleteRecursively(workDir));
    if (!problems.isEmpty()) {
      IllegalStateException e = new IllegalStateException("cleanup failed");
      problems.forEach(e::addSuppressed);
      throw e;
    }
  }

  /** Keeps what the server printed in target/e2e-logs/<test class>.log for after the run. */
  private void saveServerOutput() {
    try {
      Path dir =
          Path.of(System.getProperty("basedir", System.getProperty("user.dir")), "target", "e2e-logs");
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(getClass().getSimpleName() + ".log"), server.output());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void run(List<Throwable> problems, Runnable step) {
    try {
      step.run();
    } catch (Throwable t) {
      problems.add(t);
    }
  }

  public static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- helpers shared by the test areas ----

  /** A function name unique in this run: prefix + random suffix (letters, digits, hyphens). */
  protected static String uniqueName(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  protected static String arn(String name) {
    return "arn:aws:lambda:" + REGION + ":" + ACCOUNT + ":function:" + name;
  }

  protected static String partialArn(String name) {
    return ACCOUNT + ":function:" + name;
  }

  /** A temp file holding the zip, for the CLI's {@code --zip-file fileb://...}. */
  protected String zipFileArg(byte[] zip) {
    return "fileb://" + Zips.write(workDir.resolve("zips"), zip);
  }

  protected CreateFunctionResponse createFunction(String name, byte[] zip) {
    return createFunction(name, zip, b -> {});
  }

  protected CreateFunctionResponse createFunction(
      String name, byte[] zip, java.util.function.Consumer<CreateFunctionRequest.Builder> extra) {
    CreateFunctionRequest.Builder request =
        CreateFunctionRequest.builder()
            .functionName(name)
            .runtime("nodejs20.x")
            .role(ROLE)
            .handler("index.handler")
            .code(FunctionCode.builder().zipFile(SdkBytes.fromByteArray(zip)).build());
    extra.accept(request);
    return lambda.createFunction(request.build());
  }

  /** Creates a function and waits until it is Active. */
  protected CreateFunctionResponse createActiveFunction(String name, byte[] zip) {
    CreateFunctionResponse created = createFunction(name, zip);
    awaitActive(name);
    return created;
  }

  protected GetFunctionConfigurationResponse awaitActive(String name) {
    return await("function " + name + " Active")
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> lambda.getFunctionConfiguration(b -> b.functionName(name)),
            c -> {
              assertThat(c.state()).as("State of %s", name).isNotEqualTo(State.FAILED);
              return c.state() == State.ACTIVE;
            });
  }

  /** Waits until the last update finished (LastUpdateStatus Successful). */
  protected GetFunctionConfigurationResponse awaitUpdated(String name) {
    return await("function " + name + " LastUpdateStatus Successful")
        .atMost(Duration.ofSeconds(30))
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> lambda.getFunctionConfiguration(b -> b.functionName(name)),
            c -> {
              assertThat(c.lastUpdateStatus())
                  .as("LastUpdateStatus of %s", name)
                  .isNotEqualTo(LastUpdateStatus.FAILED);
              return c.state() == State.ACTIVE && c.lastUpdateStatus() == LastUpdateStatus.SUCCESSFUL;
            });
  }

  /** Downloads a GetFunction Code.Location without credentials. */
  protected byte[] download(String location) {
    assertThat(location).as("Code.Location").startsWith("http://127.0.0.1:" + server.port() + "/");
    return http.download(location);
  }
}
