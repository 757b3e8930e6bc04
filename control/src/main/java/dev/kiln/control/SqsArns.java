package dev.kiln.control;

import java.util.regex.Pattern;

/** The shape of an SQS queue ARN, shared by the dead-letter and destination checks. */
final class SqsArns {
  private static final Pattern QUEUE = Pattern.compile("arn:aws[a-zA-Z-]*:sqs:[a-z]{2}(-gov)?-[a-z]+-\\d:\\d{12}:[a-zA-Z0-9_-]{1,80}(\\.fifo)?");

  private SqsArns() {}

  static boolean isQueue(String arn) {
    return QUEUE.matcher(arn).matches();
  }
}
