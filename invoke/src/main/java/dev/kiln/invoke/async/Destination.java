package dev.kiln.invoke.async;

import dev.kiln.core.FunctionRef;

/** Where an invocation record or a dead letter goes: another Kiln function, or an SQS queue. */
sealed interface Destination {

  /** A function of the same account; it gets the record as an asynchronous invocation through the queue. */
  record Function(String name, String qualifier) implements Destination {}

  /** An SQS queue, reached through the node's {@link dev.kiln.invoke.QueueSender}. */
  record Queue(String arn) implements Destination {}

  /** The destination an ARN names; the control plane accepted only these two kinds. */
  static Destination of(String arn) {
    if (arn.startsWith("arn:") && arn.split(":", 4)[2].equals("lambda")) {
      var ref = FunctionRef.parse(arn, null);
      return new Function(ref.name(), ref.qualifier().orElse(null));
    }
    return new Queue(arn);
  }
}
