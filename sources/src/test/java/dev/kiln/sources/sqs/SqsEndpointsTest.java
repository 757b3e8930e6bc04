package dev.kiln.sources.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqsEndpointsTest {
  private static final String ARN = "arn:aws:sqs:eu-west-1:123456789012:orders";

  @Test
  void theDefaultEndpointHoldsQueuesUnderAccountAndName() {
    var endpoints = SqsEndpoints.parse("http://127.0.0.1:9324/", List.of());
    var queue = endpoints.resolve(ARN).orElseThrow();
    assertThat(queue.url()).isEqualTo("http://127.0.0.1:9324/123456789012/orders");
    assertThat(queue.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9324"));
    assertThat(queue.region()).isEqualTo("eu-west-1");
    assertThat(endpoints.resolve("arn:aws:sqs:eu-west-1:123456789012:jobs.fifo").orElseThrow().url())
        .endsWith("/123456789012/jobs.fifo");
    assertThat(endpoints.resolve("arn:aws:sns:eu-west-1:123456789012:topic")).isEmpty();
  }

  @Test
  void aQueueOfItsOwnOverridesTheDefault() {
    var endpoints = SqsEndpoints.parse(null, List.of(ARN + "=https://queues.example.com:8443/q/orders"));
    assertThat(endpoints.resolve(ARN).orElseThrow().endpoint()).isEqualTo(URI.create("https://queues.example.com:8443"));
    assertThat(endpoints.resolve(ARN).orElseThrow().url()).isEqualTo("https://queues.example.com:8443/q/orders");
    assertThat(endpoints.resolve("arn:aws:sqs:eu-west-1:123456789012:other")).as("no default endpoint").isEmpty();
    assertThat(endpoints.isEmpty()).isFalse();
    assertThat(SqsEndpoints.parse(" ", null).isEmpty()).isTrue();
  }

  @Test
  void malformedSettingsAreRefusedWithAnExample() {
    assertThatThrownBy(() -> SqsEndpoints.parse("localhost:9324", List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--sqs-endpoint");
    assertThatThrownBy(() -> SqsEndpoints.parse(null, List.of("orders=http://h:1/q")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("QUEUE_ARN=QUEUE_URL");
    assertThatThrownBy(() -> SqsEndpoints.parse(null, List.of(ARN + "=ftp://h/q")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--sqs-queue");
  }
}
