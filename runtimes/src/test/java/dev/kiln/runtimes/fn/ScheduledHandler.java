package dev.kiln.runtimes.fn;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import java.util.LinkedHashMap;
import java.util.Map;

/** An EventBridge schedule event: "detail-type" and a Joda-Time "time". */
public class ScheduledHandler implements RequestHandler<ScheduledEvent, Map<String, Object>> {
  @Override
  public Map<String, Object> handleRequest(ScheduledEvent event, Context context) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("detailType", event.getDetailType());
    out.put("source", event.getSource());
    out.put("account", event.getAccount());
    out.put("year", event.getTime().getYear());
    out.put("resources", event.getResources());
    out.put("detail", event.getDetail());
    return out;
  }
}
