package dev.kiln.server;

import dev.kiln.core.NetworkPolicy;
import dev.kiln.core.Region;
import dev.kiln.sources.sqs.SqsEndpoints;
import dev.kiln.store.StoreConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything one node needs to start.
 *
 * @param keepAlive how long an idle execution environment is kept for reuse
 * @param prewarmedSandboxes empty sandboxes kept ready for cold starts
 * @param scalingBurst new environments a function may start at once (the account: twice that)
 * @param scalingRate new environments per second a function regains (the account: twice that)
 * @param devCredentials accept the fixed access key {@code test}/{@code test}; only allowed on a loopback address
 * @param admissionBypassed admit every invoke without limits or counters: only for the benchmark that
 *     measures what admission costs
 * @param sqsEndpoints where the SQS-compatible queues named by ARN are reached
 * @param asyncRetryBase wait before the first retry of a failed asynchronous invocation (Lambda: one
 *     minute; the second retry waits twice as long)
 * @param warming the keep-alive policy, {@code fixed} or {@code histogram} (see dev.kiln.warming.WarmingPolicy#named)
 * @param snapshots whether new environments start from start-up snapshots where a function allows it
 * @param seccomp whether crun sandboxes get Kiln's system call filter ({@code kiln up --seccomp})
 * @param network the network policy of functions that do not set KILN_NETWORK
 * @param dnsUpstreams {@code address[:port]} of the name servers the sandboxes' resolver forwards to; empty for
 *     the host's own
 */
public record KilnConfig(
    String host, int port, Path dataDir, Region region, StoreConfig store, boolean devCredentials,
    int accountConcurrency, Duration keepAlive, int prewarmedSandboxes, int scalingBurst, double scalingRate,
    boolean admissionBypassed, SqsEndpoints sqsEndpoints, Duration asyncRetryBase, String warming,
    boolean snapshots, dev.kiln.sandbox.SeccompMode seccomp, NetworkPolicy network, List<String> dnsUpstreams) {

  public KilnConfig {
    dnsUpstreams = List.copyOf(dnsUpstreams);
  }

  public static final String DEFAULT_ACCOUNT = "000000000000";
}
