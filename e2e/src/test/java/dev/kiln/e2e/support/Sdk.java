package dev.kiln.e2e.support;

import java.net.URI;
import java.time.Duration;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaClient;

/** Real AWS SDK for Java v2 Lambda clients pointed at a Kiln server. */
public final class Sdk {
  private Sdk() {}

  /** A client with the given keys, url-connection HTTP client and no retries. */
  public static LambdaClient lambda(String endpoint, String accessKey, String secretKey) {
    return LambdaClient.builder()
        .endpointOverride(URI.create(endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
        .httpClient(
            UrlConnectionHttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(10))
                .socketTimeout(Duration.ofSeconds(120))
                .build())
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
  }

  /**
   * Runs a call that must fail with a Lambda service error and asserts its HTTP status and error
   * code; returns the exception for further checks.
   */
  public static AwsServiceException expectError(int status, String code, Supplier<?> call) {
    Object result;
    try {
      result = call.get();
    } catch (AwsServiceException e) {
      String actual = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
      if (e.statusCode() != status || !code.equals(actual)) {
        throw new AssertionError(
            "expected HTTP "
                + status
                + " "
                + code
                + " but got HTTP "
                + e.statusCode()
                + " "
                + actual
                + ": "
                + e.getMessage(),
            e);
      }
      return e;
    } catch (SdkException e) {
      throw new AssertionError("expected HTTP " + status + " " + code + " but the call failed: " + e, e);
    }
    throw new AssertionError(
        "expected HTTP " + status + " " + code + " but the call succeeded: " + result);
  }

  /** Like {@link #expectError(int, String, Supplier)} but accepts any of several (status, code). */
  public static AwsServiceException expectOneOf(Supplier<?> call, Object... statusCodePairs) {
    Object result;
    try {
      result = call.get();
    } catch (AwsServiceException e) {
      String actual = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
      for (int i = 0; i < statusCodePairs.length; i += 2) {
        if (e.statusCode() == (int) statusCodePairs[i] && statusCodePairs[i + 1].equals(actual)) {
          return e;
        }
      }
      throw new AssertionError(
          "expected one of "
              + java.util.Arrays.toString(statusCodePairs)
              + " but got HTTP "
              + e.statusCode()
              + " "
              + actual
              + ": "
              + e.getMessage(),
          e);
    }
    throw new AssertionError(
        "expected one of "
            + java.util.Arrays.toString(statusCodePairs)
            + " but the call succeeded: "
            + result);
  }
}
