package dev.kiln.runtimes.fn;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import java.util.ArrayList;
import java.util.List;

/** An SQS-triggered function (aws-lambda-java-events). */
public class SqsHandler implements RequestHandler<SQSEvent, List<String>> {
  @Override
  public List<String> handleRequest(SQSEvent event, Context context) {
    List<String> out = new ArrayList<>();
    for (SQSEvent.SQSMessage m : event.getRecords()) {
      SQSEvent.MessageAttribute attr = m.getMessageAttributes().get("color");
      out.add(m.getMessageId() + "|" + m.getBody() + "|" + m.getEventSourceArn() + "|" + m.getAwsRegion() + "|"
          + m.getAttributes().get("ApproximateReceiveCount") + "|" + (attr == null ? null : attr.getStringValue()));
    }
    return out;
  }
}
