package dev.kiln.runtime.java;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import java.util.LinkedHashMap;
import java.util.Map;

/** The {@link Context} handed to the handler for one invocation. */
final class InvocationContext implements Context {
  private final Invocation invocation;
  private final FunctionEnvironment environment;
  private final LambdaLogger logger;
  private ClientContext clientContext;
  private boolean clientContextParsed;
  private CognitoIdentity identity;
  private boolean identityParsed;

  InvocationContext(Invocation invocation, FunctionEnvironment environment, LambdaLogger logger) {
    this.invocation = invocation;
    this.environment = environment;
    this.logger = logger;
  }

  @Override
  public String getAwsRequestId() {
    return invocation.requestId();
  }

  @Override
  public String getLogGroupName() {
    return environment.logGroupName();
  }

  @Override
  public String getLogStreamName() {
    return environment.logStreamName();
  }

  @Override
  public String getFunctionName() {
    return environment.functionName();
  }

  @Override
  public String getFunctionVersion() {
    return environment.functionVersion();
  }

  @Override
  public String getInvokedFunctionArn() {
    return invocation.invokedFunctionArn();
  }

  @Override
  public CognitoIdentity getIdentity() {
    if (!identityParsed) {
      identityParsed = true;
      Map<String, Object> json = parseObject(invocation.cognitoIdentity());
      if (json != null) {
        identity = new Identity(string(json.get("cognitoIdentityId")), string(json.get("cognitoIdentityPoolId")));
      }
    }
    return identity;
  }

  @Override
  public ClientContext getClientContext() {
    if (!clientContextParsed) {
      clientContextParsed = true;
      Map<String, Object> json = parseObject(invocation.clientContext());
      if (json != null) {
        Map<String, Object> client = object(json.get("client"));
        clientContext = new ClientContextImpl(
            client == null ? null : new ClientImpl(
                string(client.get("installation_id")),
                string(client.get("app_title")),
                string(client.get("app_version_name")),
                string(client.get("app_version_code")),
                string(client.get("app_package_name"))),
            stringMap(json.get("custom")),
            stringMap(json.get("env")));
      }
    }
    return clientContext;
  }

  @Override
  public int getRemainingTimeInMillis() {
    long remaining = invocation.deadlineMs() - System.currentTimeMillis();
    return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, remaining));
  }

  @Override
  public int getMemoryLimitInMB() {
    return environment.memoryLimitInMb();
  }

  @Override
  public LambdaLogger getLogger() {
    return logger;
  }

  @Override
  public String getXrayTraceId() {
    return invocation.traceId();
  }

  @Override
  public String getTenantId() {
    return invocation.tenantId();
  }

  @Override
  public String toString() {
    return "Context[awsRequestId=" + getAwsRequestId() + ", functionName=" + getFunctionName()
        + ", functionVersion=" + getFunctionVersion() + ", invokedFunctionArn=" + getInvokedFunctionArn()
        + ", memoryLimitInMB=" + getMemoryLimitInMB() + ", remainingTimeInMillis=" + getRemainingTimeInMillis()
        + "]";
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> parseObject(String json) {
    if (json == null || json.isBlank()) {
      return null;
    }
    try {
      Object value = Json.parse(json);
      return value instanceof Map ? (Map<String, Object>) value : null;
    } catch (Json.ParseException e) {
      return null;
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> object(Object value) {
    return value instanceof Map ? (Map<String, Object>) value : null;
  }

  private static String string(Object value) {
    return value == null ? null : value.toString();
  }

  private static Map<String, String> stringMap(Object value) {
    Map<String, Object> map = object(value);
    if (map == null) {
      return null;
    }
    Map<String, String> result = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : map.entrySet()) {
      result.put(e.getKey(), string(e.getValue()));
    }
    return result;
  }

  private record Identity(String getIdentityId, String getIdentityPoolId) implements CognitoIdentity {}

  private record ClientImpl(
      String getInstallationId,
      String getAppTitle,
      String getAppVersionName,
      String getAppVersionCode,
      String getAppPackageName)
      implements Client {}

  private record ClientContextImpl(Client getClient, Map<String, String> getCustom, Map<String, String> getEnvironment)
      implements ClientContext {}
}
