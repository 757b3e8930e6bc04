package dev.kiln.runtimes.fn;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

/** RequestHandler with POJO input and output, counting its invocations (state kept between them). */
public class HelloPojo implements RequestHandler<Greeting, Reply> {
  private int count;

  @Override
  public Reply handleRequest(Greeting greeting, Context context) {
    count++;
    String city = greeting.getAddress() == null ? "nowhere" : greeting.getAddress().getCity();
    return new Reply("hello " + greeting.getName().repeat(Math.max(1, greeting.getTimes())) + " from " + city,
        count, context.getAwsRequestId());
  }
}
