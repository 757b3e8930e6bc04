package dev.kiln.invoke.async;

import dev.kiln.invoke.QueueSender;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends invocation records and dead letters to SQS queues, trying a few times. A queue that stays
 * unreachable costs the event its record, never its place in the queue: the failure is logged and
 * the event is settled anyway.
 */
final class QueueDelivery {
  private static final Logger log = LoggerFactory.getLogger(QueueDelivery.class);
  private static final int ATTEMPTS = 3;
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);

  private final QueueSender sender;

  /** @param sender the node's queue client, or null when it has no queue endpoint */
  QueueDelivery(QueueSender sender) {
    this.sender = sender;
  }

  /** Returns whether the queue accepted the message. */
  boolean send(String queueArn, String body, Map<String, String> attributes, String what) {
    if (sender == null) {
      log.error("{} was not delivered to {}: this node has no queue endpoint configured. Configure one, or use a "
          + "Lambda function as the destination.", what, queueArn);
      return false;
    }
    Exception last = null;
    Duration backoff = FIRST_BACKOFF;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        sender.send(queueArn, body, attributes);
        return true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } catch (Exception e) {
        last = e;
        if (attempt < ATTEMPTS) {
          try {
            Thread.sleep(backoff);
          } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            return false;
          }
          backoff = backoff.multipliedBy(5);
        }
      }
    }
    log.warn("{} was not delivered to {} after {} attempts: {}. Check that the queue exists and the queue endpoint "
        + "is reachable.", what, queueArn, ATTEMPTS, String.valueOf(last));
    return false;
  }
}
