package dev.kiln.invoke;

import java.util.Map;

/**
 * Delivers a message to an SQS-compatible queue named by its ARN: how asynchronous invocations
 * reach an OnSuccess / OnFailure destination or dead-letter queue that is a queue. The event-source
 * module supplies the real one; a node without queue endpoints configured has none.
 */
public interface QueueSender {

  /**
   * Sends {@code body} with SQS string message attributes (Lambda's dead-letter messages carry
   * RequestID, ErrorCode and ErrorMessage; destination records carry none), returning once the
   * queue has accepted it.
   *
   * @throws Exception when the queue is unknown or refused the message; the caller decides whether
   *     to retry
   */
  void send(String queueArn, String body, Map<String, String> attributes) throws Exception;
}
