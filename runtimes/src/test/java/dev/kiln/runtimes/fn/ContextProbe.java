package dev.kiln.runtimes.fn;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reports what the Context says, and logs through every channel. */
public class ContextProbe implements RequestHandler<Object, Map<String, Object>> {
  @Override
  public Map<String, Object> handleRequest(Object event, Context context) {
    int first = context.getRemainingTimeInMillis();
    try {
      Thread.sleep(120);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    context.getLogger().log("via context logger\n");
    LambdaRuntime.getLogger().log("via LambdaRuntime\n");
    System.out.println("via System.out");
    System.err.println("via System.err");
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("first", first);
    out.put("second", context.getRemainingTimeInMillis());
    out.put("awsRequestId", context.getAwsRequestId());
    out.put("functionName", context.getFunctionName());
    out.put("functionVersion", context.getFunctionVersion());
    out.put("invokedFunctionArn", context.getInvokedFunctionArn());
    out.put("memoryLimitInMB", context.getMemoryLimitInMB());
    out.put("logGroupName", context.getLogGroupName());
    out.put("logStreamName", context.getLogStreamName());
    out.put("xrayTraceId", context.getXrayTraceId());
    out.put("traceProperty", System.getProperty("com.amazonaws.xray.traceHeader"));
    out.put("identityId", context.getIdentity() == null ? null : context.getIdentity().getIdentityId());
    out.put("custom", context.getClientContext() == null ? null : context.getClientContext().getCustom());
    out.put("installationId", context.getClientContext() == null || context.getClientContext().getClient() == null
        ? null : context.getClientContext().getClient().getInstallationId());
    out.put("contextClassLoader", Thread.currentThread().getContextClassLoader().getClass().getSimpleName());
    out.put("sameCoreClasses", Context.class == context.getClass().getInterfaces()[0]);
    out.put("coreLoader", String.valueOf(Context.class.getClassLoader().getName()));
    out.put("jacksonVisible", visible("tools.jackson.databind.ObjectMapper"));
    out.put("event", event);
    return out;
  }

  private static boolean visible(String className) {
    try {
      Class.forName(className, false, ContextProbe.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }
}
