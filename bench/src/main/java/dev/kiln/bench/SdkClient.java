package dev.kiln.bench;

import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;
import software.amazon.awssdk.services.lambda.model.InvocationType;
import software.amazon.awssdk.services.lambda.model.InvokeRequest;
import software.amazon.awssdk.services.lambda.model.InvokeResponse;
import software.amazon.awssdk.services.lambda.model.LogType;

/** The AWS SDK for Java v2's synchronous LambdaClient over one of its HTTP clients. */
final class SdkClient implements InvokeClient {
  enum Http { URL_CONNECTION, APACHE5 }

  private final LambdaClient lambda;
  private final Http http;

  SdkClient(URI endpoint, String accessKey, String secretKey, Http http) {
    this.http = http;
    this.lambda = lambdaClient(endpoint, accessKey, secretKey, http);
  }

  static LambdaClient lambdaClient(URI endpoint, String accessKey, String secretKey, Http http) {
    SdkHttpClient client = switch (http) {
      case URL_CONNECTION -> UrlConnectionHttpClient.builder()
          .connectionTimeout(Duration.ofSeconds(10)).socketTimeout(Duration.ofSeconds(120)).build();
      case APACHE5 -> Apache5HttpClient.builder().maxConnections(64)
          .connectionTimeout(Duration.ofSeconds(10)).socketTimeout(Duration.ofSeconds(120)).build();
    };
    return LambdaClient.builder()
        .endpointOverride(endpoint)
        .region(Region.US_EAST_1)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
        .httpClient(client)
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
  }

  LambdaClient lambda() {
    return lambda;
  }

  @Override
  public String name() {
    return http == Http.APACHE5 ? "sdk+apache5" : "sdk+urlconn";
  }

  @Override
  public Reply invoke(String function, byte[] payload, boolean tailLog) {
    try {
      InvokeResponse r = lambda.invoke(InvokeRequest.builder()
          .functionName(function)
          .invocationType(InvocationType.REQUEST_RESPONSE)
          .logType(tailLog ? LogType.TAIL : LogType.NONE)
          .payload(SdkBytes.fromByteArrayUnsafe(payload))
          .build());
      return new Reply(r.statusCode(), r.payload() == null ? new byte[0] : r.payload().asByteArrayUnsafe(),
          r.functionError(), r.logResult());
    } catch (AwsServiceException e) {
      return new Reply(e.statusCode(), e.getMessage().getBytes(java.nio.charset.StandardCharsets.UTF_8),
          null, null);
    }
  }

  @Override
  public void close() {
    lambda.close();
  }
}
