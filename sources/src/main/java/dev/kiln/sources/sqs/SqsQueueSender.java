package dev.kiln.sources.sqs;

import dev.kiln.invoke.QueueSender;

/** Sends to SQS-compatible queues named by ARN, through the same endpoints as the pollers. */
public final class SqsQueueSender implements QueueSender {
  private final SqsClients clients;

  public SqsQueueSender(SqsClients clients) {
    this.clients = clients;
  }

  @Override
  public void send(String queueArn, String body) {
    var queue = clients.resolve(queueArn)
        .orElseThrow(() -> new IllegalArgumentException(SqsEndpoints.noEndpointAdvice(queueArn)));
    clients.client(queue).sendMessage(b -> b.queueUrl(queue.url()).messageBody(body));
  }
}
