package dev.kiln.e2e.support;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.lambda.LambdaAsyncClient;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamCompleteEvent;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamRequest;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamResponse;
import software.amazon.awssdk.services.lambda.model.InvokeWithResponseStreamResponseHandler;

/**
 * InvokeWithResponseStream through the real AWS SDK for Java v2: only its async client offers it,
 * over the Netty HTTP client. Records every event with the time it arrived, so tests can tell a
 * response that was streamed from one that was buffered.
 */
public final class StreamingLambda implements AutoCloseable {
  private final LambdaAsyncClient client;

  public StreamingLambda(String endpoint, String accessKey, String secretKey) {
    client =
        LambdaAsyncClient.builder()
            .endpointOverride(URI.create(endpoint))
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
            .httpClientBuilder(
                NettyNioAsyncHttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(10))
                    .readTimeout(Duration.ofSeconds(60)))
            .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
            .build();
  }

  /** One PayloadChunk and when it arrived (System.nanoTime). */
  public record Chunk(long arrivedNanos, byte[] bytes) {}

  /** Everything one streamed invocation delivered. */
  public record Result(
      InvokeWithResponseStreamResponse response,
      List<Chunk> chunks,
      InvokeWithResponseStreamCompleteEvent complete,
      long completeNanos,
      long startedNanos) {

    public String payload() {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      chunks.forEach(c -> all.writeBytes(c.bytes()));
      return all.toString(StandardCharsets.UTF_8);
    }

    public int payloadBytes() {
      return chunks.stream().mapToInt(c -> c.bytes().length).sum();
    }

    public String errorCode() {
      return complete == null ? null : complete.errorCode();
    }

    public String errorDetails() {
      return complete == null ? null : complete.errorDetails();
    }

    /** The decoded LogResult of InvokeComplete, or null. */
    public String log() {
      return complete == null ? null : Invocation.decode(complete.logResult());
    }

    /** Milliseconds from the first chunk's arrival to InvokeComplete's. */
    public long firstChunkLeadMs() {
      return chunks.isEmpty() ? 0 : (completeNanos - chunks.getFirst().arrivedNanos()) / 1_000_000;
    }

    @Override
    public String toString() {
      return "status="
          + (response == null ? null : response.statusCode())
          + " chunks="
          + chunks.size()
          + " payload="
          + (payloadBytes() > 300 ? payloadBytes() + " bytes" : payload())
          + " complete="
          + complete;
    }
  }

  public Result invoke(Consumer<InvokeWithResponseStreamRequest.Builder> request) {
    List<Chunk> chunks = new CopyOnWriteArrayList<>();
    AtomicReference<InvokeWithResponseStreamResponse> response = new AtomicReference<>();
    AtomicReference<InvokeWithResponseStreamCompleteEvent> complete = new AtomicReference<>();
    AtomicLong completeAt = new AtomicLong();
    long started = System.nanoTime();
    InvokeWithResponseStreamResponseHandler handler =
        InvokeWithResponseStreamResponseHandler.builder()
            .onResponse(response::set)
            .subscriber(
                InvokeWithResponseStreamResponseHandler.Visitor.builder()
                    .onPayloadChunk(
                        c -> chunks.add(new Chunk(System.nanoTime(), c.payload().asByteArray())))
                    .onInvokeComplete(
                        c -> {
                          completeAt.set(System.nanoTime());
                          complete.set(c);
                        })
                    .build())
            .build();
    try {
      client
          .invokeWithResponseStream(InvokeWithResponseStreamRequest.builder().applyMutation(request).build(), handler)
          .get(90, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("InvokeWithResponseStream did not finish in 90 s", e);
    }
    return new Result(response.get(), List.copyOf(chunks), complete.get(), completeAt.get(), started);
  }

  @Override
  public void close() {
    client.close();
  }
}
