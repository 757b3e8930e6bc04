package dev.kiln.sources.sqs;

import dev.kiln.invoke.QueueSender;
import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/** Sends to SQS-compatible queues named by ARN, through the same endpoints as the pollers. */
public final class SqsQueueSender implements QueueSender {
  private final SqsClients clients;

  public SqsQueueSender(SqsClients clients) {
    this.clients = clients;
  }

  @Override
  public void send(String queueArn, String body, Map<String, String> attributes) {
    var queue = clients.resolve(queueArn)
        .orElseThrow(() -> new IllegalArgumentException(SqsEndpoints.noEndpointAdvice(queueArn)));
    var messageAttributes = new LinkedHashMap<String, MessageAttributeValue>();
    attributes.forEach((name, value) -> messageAttributes.put(name,
        MessageAttributeValue.builder().dataType("String").stringValue(value).build()));
    clients.client(queue).sendMessage(b -> b.queueUrl(queue.url()).messageBody(body)
        .messageAttributes(messageAttributes));
  }
}
