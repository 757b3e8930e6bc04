package dev.kiln.e2e.support;

import ch.qos.logback.classic.Level;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * ElasticMQ, a real SQS-compatible server, running in the test JVM on a free port, with a real
 * SQS client for the tests. Its queues belong to {@link KilnTestBase#ACCOUNT} in {@link
 * KilnTestBase#REGION}, so a queue's ARN is {@code arn:aws:sqs:us-east-1:000000000000:NAME} and Kiln
 * reaches it at {@code endpoint()/000000000000/NAME}.
 */
public final class ElasticMq implements AutoCloseable {
  static {
    // Pekko and ElasticMQ log each request at DEBUG.
    QuietLogs.set(Level.WARN, "org.apache.pekko", "org.elasticmq", "software.amazon.awssdk");
  }

  private final SQSRestServer server;
  private final String endpoint;
  private final SqsClient client;

  private ElasticMq(SQSRestServer server, int port) {
    this.server = server;
    this.endpoint = "http://127.0.0.1:" + port;
    this.client = SqsClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
        .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(30)).build())
        .build();
  }

  public static ElasticMq start() {
    var server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort()
        .withAWSAccountId(KilnTestBase.ACCOUNT).withAWSRegion(KilnTestBase.REGION).start();
    int port = server.waitUntilStarted().localAddress().getPort();
    return new ElasticMq(server, port);
  }

  public String endpoint() {
    return endpoint;
  }

  public SqsClient client() {
    return client;
  }

  /** Creates a queue whose messages come back {@code visibilitySeconds} after a receive; returns its ARN. */
  public String createQueue(String name, int visibilitySeconds) {
    client.createQueue(b -> b.queueName(name)
        .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, Integer.toString(visibilitySeconds))));
    return arn(name);
  }

  public static String arn(String name) {
    return "arn:aws:sqs:" + KilnTestBase.REGION + ":" + KilnTestBase.ACCOUNT + ":" + name;
  }

  public String url(String name) {
    return endpoint + "/" + KilnTestBase.ACCOUNT + "/" + name;
  }

  public String send(String name, String body) {
    return client.sendMessage(b -> b.queueUrl(url(name)).messageBody(body)).messageId();
  }

  /** Messages waiting plus messages received and not yet deleted. */
  public int messagesLeft(String name) {
    var attributes = client.getQueueAttributes(b -> b.queueUrl(url(name)).attributeNames(
        QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
        .attributes();
    return Integer.parseInt(attributes.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
        + Integer.parseInt(attributes.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
  }

  /** Receives what is visible now (up to 10), with every attribute. */
  public List<Message> receive(String name) {
    return client.receiveMessage(b -> b.queueUrl(url(name)).maxNumberOfMessages(10).waitTimeSeconds(1)
        .messageSystemAttributeNamesWithStrings("All")).messages();
  }

  @Override
  public void close() {
    client.close();
    server.stopAndWait();
  }
}
