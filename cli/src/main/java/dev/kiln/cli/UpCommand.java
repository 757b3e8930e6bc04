package dev.kiln.cli;

import dev.kiln.core.KilnException;
import dev.kiln.core.Limits;
import dev.kiln.core.NetworkPolicy;
import dev.kiln.core.Region;
import dev.kiln.server.KilnConfig;
import dev.kiln.server.KilnNode;
import dev.kiln.sources.sqs.SqsEndpoints;
import dev.kiln.store.StoreConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiln up}: start one node in the foreground until Ctrl-C. */
@Command(name = "up", mixinStandardHelpOptions = true, description = "Start a Kiln node in the foreground.")
final class UpCommand implements Callable<Integer> {
  @Option(names = "--host", defaultValue = "${env:KILN_HOST:-127.0.0.1}", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "${env:KILN_PORT:-9000}", description = "Port to listen on (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--data-dir", defaultValue = "${env:KILN_DATA_DIR:-.kiln}", description = "Where the embedded store, code and credentials live (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--region", defaultValue = "${env:KILN_REGION:-us-east-1}", description = "Region named in ARNs (default: ${DEFAULT-VALUE}).")
  String region;

  @Option(names = "--store-url", defaultValue = "${env:KILN_STORE_URL}", description = "JDBC URL of a PostgreSQL database; without it the embedded SQLite store is used.")
  String storeUrl;

  @Option(names = "--store-user", defaultValue = "${env:KILN_STORE_USER:-postgres}", description = "PostgreSQL user (default: ${DEFAULT-VALUE}).")
  String storeUser;

  @Option(names = "--store-password", defaultValue = "${env:KILN_STORE_PASSWORD}", description = "PostgreSQL password.")
  String storePassword;

  @Option(names = "--dev-credentials", defaultValue = "${env:KILN_DEV_CREDENTIALS:-false}", description = "Also accept the fixed key test/test (loopback only).")
  boolean devCredentials;

  @Option(names = "--concurrency", defaultValue = "${env:KILN_CONCURRENCY:-" + Limits.DEFAULT_ACCOUNT_CONCURRENCY + "}", description = "Account concurrency limit (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--keep-alive", defaultValue = "${env:KILN_KEEP_ALIVE:-PT10M}", description = "How long an idle execution environment is kept for reuse, ISO-8601 (default: ${DEFAULT-VALUE}).")
  java.time.Duration keepAlive;

  @Option(names = "--warming", defaultValue = "${env:KILN_WARMING:-fixed}", description = "Keep-alive policy: 'histogram' learns each function's idle times and pre-warms before expected invocations; 'fixed' keeps every idle environment for --keep-alive (default: ${DEFAULT-VALUE}).")
  String warming;

  @Option(names = "--snapshots", defaultValue = "${env:KILN_SNAPSHOTS:-auto}", description = "Start-up snapshots: 'auto' starts new environments from a snapshot of the initialized function (Python zygote, Node.js V8 snapshot, Java AOT cache) where it allows one; 'off' boots every environment (default: ${DEFAULT-VALUE}).")
  String snapshots;

  @Option(names = "--seccomp", defaultValue = "${env:KILN_SECCOMP:-default}", description = "System call filter of"
      + " every sandbox: 'default' denies what no function needs (new namespaces, mounts, keyrings, io_uring, bpf,"
      + " ptrace, kernel modules, ...); 'off' filters nothing and is only for measuring what the filter costs"
      + " (default: ${DEFAULT-VALUE}).")
  String seccomp;

  @Option(names = "--prewarm", defaultValue = "${env:KILN_PREWARM:-2}", description = "Empty sandboxes kept ready for cold starts (default: ${DEFAULT-VALUE}).")
  int prewarm;

  @Option(names = "--scaling-burst", defaultValue = "${env:KILN_SCALING_BURST:-50}", description = "New execution environments a function may start at once (default: ${DEFAULT-VALUE}).")
  int scalingBurst;

  @Option(names = "--scaling-rate", defaultValue = "${env:KILN_SCALING_RATE:-10}", description = "New execution environments per second a function regains; the account gets twice the burst and rate (default: ${DEFAULT-VALUE}).")
  double scalingRate;

  @Option(names = "--bench-bypass-admission", hidden = true, description = "Admit every invoke without limits (only for"
      + " the benchmark that measures what admission costs).")
  boolean benchBypassAdmission;

  @Option(names = "--sqs-endpoint", defaultValue = "${env:KILN_SQS_ENDPOINT}", description = "Base URL of an SQS-compatible server (e.g. ElasticMQ); queue arn:aws:sqs:REGION:ACCOUNT:NAME is reached at ENDPOINT/ACCOUNT/NAME.")
  String sqsEndpoint;

  @Option(names = "--sqs-queue", paramLabel = "ARN=URL", description = "A queue at a URL of its own, overriding --sqs-endpoint for that ARN (repeatable).")
  List<String> sqsQueues;

  @Option(names = "--async-retry-base", hidden = true, defaultValue = "${env:KILN_ASYNC_RETRY_BASE:-PT1M}", description = "Wait before the first retry of a failed asynchronous invocation, ISO-8601; the second waits twice as long (default: ${DEFAULT-VALUE}, as on Lambda).")
  java.time.Duration asyncRetryBase;

  @Option(names = "--network", defaultValue = "${env:KILN_NETWORK_DEFAULT:-internet}", description = "Network policy of functions that do not set KILN_NETWORK: 'none', 'internet' (public addresses, not this host, private ranges or link-local), or a comma-separated list of CIDRs and address:port entries (default: ${DEFAULT-VALUE}).")
  String network;

  @Option(names = "--dns-upstream", split = ",", paramLabel = "ADDRESS[:PORT]", description = "Name server(s) the sandboxes' resolver forwards to (default: those of /etc/resolv.conf).")
  java.util.List<String> dnsUpstreams = new java.util.ArrayList<>();

  @Option(names = "--exit-when-ready", hidden = true, description = "Stop as soon as the node is ready (used to train the start-up cache).")
  boolean exitWhenReady;

  private boolean snapshotsOn() {
    return switch (snapshots) {
      case "auto" -> true;
      case "off" -> false;
      default -> throw new IllegalArgumentException("--snapshots must be 'auto' or 'off', not '" + snapshots + "'");
    };
  }

  private NetworkPolicy networkDefault() {
    try {
      return NetworkPolicy.parse(network);
    } catch (KilnException e) {
      throw new IllegalArgumentException("--network: " + e.getMessage().replace(NetworkPolicy.VARIABLE, "--network"));
    }
  }

  @Override
  public Integer call() throws Exception {
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    long started = System.nanoTime();
    StoreConfig store = storeUrl == null || storeUrl.isBlank()
        ? new StoreConfig.Sqlite(dataDir.resolve("kiln.db"))
        : new StoreConfig.Postgres(storeUrl, storeUser, storePassword == null ? "" : storePassword);
    KilnNode node;
    try {
      var config = new KilnConfig(host, port, dataDir.toAbsolutePath(), new Region(region), store, devCredentials,
          concurrency, keepAlive, prewarm, scalingBurst, scalingRate, benchBypassAdmission,
          SqsEndpoints.parse(sqsEndpoint, sqsQueues), asyncRetryBase, warming, snapshotsOn(),
          dev.kiln.sandbox.SeccompMode.parse(seccomp), networkDefault(), dnsUpstreams);
      node = KilnNode.start(config);
    } catch (IllegalArgumentException | IllegalStateException e) {
      System.err.println("kiln: " + e.getMessage());
      return 2;
    }
    if (exitWhenReady) {
      node.close();
      return 0;
    }
    var stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
      node.close();
      stopped.countDown();
    }));
    var endpoint = "http://" + host + ":" + node.port();
    var credential = node.defaultCredential();
    // Measured from process start, so JVM start-up counts too.
    long millis = ProcessHandle.current().info().startInstant()
        .map(start -> java.time.Duration.between(start, java.time.Instant.now()).toMillis())
        .orElse((System.nanoTime() - started) / 1_000_000);
    System.out.printf("""
        Kiln is ready at %s (started in %d ms, store: %s, sandboxes: %s)

          AWS_ACCESS_KEY_ID=%s
          AWS_SECRET_ACCESS_KEY=%s
          (also saved in %s)%s

        Try:
          AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=%s \\
            aws lambda list-functions --endpoint-url %s

        Ctrl-C stops the node.
        """, endpoint, millis, node.storeDescription(), node.sandboxBackend(), credential.accessKeyId(), credential.secretAccessKey(),
        dataDir.resolve("credentials"), devCredentials ? "\n  Dev credentials test/test are accepted too." : "",
        credential.accessKeyId(), credential.secretAccessKey(), region, endpoint);
    System.out.flush();
    stopped.await();
    return 0;
  }
}
