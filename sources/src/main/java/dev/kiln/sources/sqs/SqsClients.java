package dev.kiln.sources.sqs;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * One SQS client per endpoint and region, shared by every poller and sender that talks to it.
 * Requests are signed with the node's {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY} when
 * set; local SQS-compatible servers such as ElasticMQ accept any signature.
 */
public final class SqsClients implements AutoCloseable {
  /** Longer than the longest long poll (20 s), so a wait for messages is never cut short. */
  static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);

  private final SqsEndpoints endpoints;
  private final AwsCredentialsProvider credentials;
  private final Map<String, SqsClient> clients = new ConcurrentHashMap<>();

  public SqsClients(SqsEndpoints endpoints) {
    this.endpoints = endpoints;
    var key = System.getenv("AWS_ACCESS_KEY_ID");
    var secret = System.getenv("AWS_SECRET_ACCESS_KEY");
    boolean fromEnvironment = key != null && !key.isBlank() && secret != null && !secret.isBlank();
    this.credentials = StaticCredentialsProvider.create(
        fromEnvironment ? AwsBasicCredentials.create(key, secret) : AwsBasicCredentials.create("kiln", "kiln"));
  }

  public Optional<SqsEndpoints.Queue> resolve(String queueArn) {
    return endpoints.resolve(queueArn);
  }

  public SqsClient client(SqsEndpoints.Queue queue) {
    return clients.computeIfAbsent(queue.endpoint() + " " + queue.region(), k -> build(queue.endpoint(),
        queue.region()));
  }

  private SqsClient build(URI endpoint, String region) {
    return SqsClient.builder()
        .endpointOverride(endpoint)
        .region(Region.of(region))
        .credentialsProvider(credentials)
        .httpClient(UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(5))
            .socketTimeout(SOCKET_TIMEOUT)
            .build())
        .build();
  }

  @Override
  public void close() {
    clients.values().forEach(SqsClient::close);
    clients.clear();
  }
}
