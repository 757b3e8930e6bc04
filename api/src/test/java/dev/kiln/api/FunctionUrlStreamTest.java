package dev.kiln.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.worker.InvocationResult;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class FunctionUrlStreamTest {
  private final List<FunctionUrlResponse> heads = new ArrayList<>();
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();
  private int failures;
  private final FunctionUrlStream stream = new FunctionUrlStream(head -> {
    heads.add(head);
    return body;
  }, () -> failures++);

  private static final InvocationResult STREAMED = new InvocationResult(new byte[0], null, null, "$LATEST", 1, null);
  private static final InvocationResult FAILED =
      new InvocationResult("{}".getBytes(StandardCharsets.UTF_8), "Unhandled", null, "$LATEST", 1, null);

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] join(byte[]... parts) {
    var out = new ByteArrayOutputStream();
    for (var part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  @Test
  void aPreludeSplitAnywhereGivesTheHeadThenTheBodyFollows() throws Exception {
    var whole = join(bytes("{\"statusCode\":201,\"headers\":{\"Content-Type\":\"text/plain\"},\"cookies\":[\"a=1\"]}"),
        new byte[8], bytes("first;"));
    stream.contentType(FunctionUrlStream.HTTP_INTEGRATION);
    // Cut inside the JSON and inside the eight NUL bytes.
    int cut1 = 10;
    int cut2 = whole.length - 6 - 3;
    stream.chunk(Arrays.copyOfRange(whole, 0, cut1));
    stream.chunk(Arrays.copyOfRange(whole, cut1, cut2));
    assertThat(heads).isEmpty();
    stream.chunk(Arrays.copyOfRange(whole, cut2, whole.length));
    assertThat(heads).singleElement().satisfies(head -> {
      assertThat(head.status()).isEqualTo(201);
      assertThat(head.headers()).containsEntry("Content-Type", "text/plain");
      assertThat(head.cookies()).containsExactly("a=1");
    });
    assertThat(body.toString(StandardCharsets.UTF_8)).isEqualTo("first;");
    stream.chunk(bytes("second"));
    stream.finish(STREAMED);
    assertThat(body.toString(StandardCharsets.UTF_8)).isEqualTo("first;second");
    assertThat(failures).isZero();
  }

  @Test
  void nulBytesInTheBodyAfterThePreludeAreKept() throws Exception {
    stream.contentType(FunctionUrlStream.HTTP_INTEGRATION + "; charset=utf-8");
    stream.chunk(join(bytes("{}"), new byte[8], new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    stream.finish(STREAMED);
    assertThat(heads.getFirst().status()).isEqualTo(200);
    assertThat(body.toByteArray()).containsExactly(0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
  }

  @Test
  void anOrdinaryStreamIsTheBodyOfA200OfItsType() throws Exception {
    stream.contentType("text/csv");
    stream.chunk(bytes("a,b\n"));
    stream.finish(STREAMED);
    assertThat(heads.getFirst().headers()).containsEntry("Content-Type", "text/csv");
    assertThat(body.toString(StandardCharsets.UTF_8)).isEqualTo("a,b\n");
  }

  @Test
  void aFailureBeforeTheHeadIs502AndAfterItCutsTheBodyShort() throws Exception {
    stream.contentType(FunctionUrlStream.HTTP_INTEGRATION);
    stream.chunk(bytes("{\"statusCode\":200"));
    stream.finish(FAILED);
    assertThat(failures).isEqualTo(1);
    assertThat(heads).isEmpty();

    var started = new FunctionUrlStream(head -> {
      heads.add(head);
      return body;
    }, () -> failures++);
    started.contentType("text/plain");
    started.chunk(bytes("partial"));
    started.finish(FAILED);
    assertThat(failures).isEqualTo(1);
    assertThat(body.toString(StandardCharsets.UTF_8)).isEqualTo("partial");
  }

  @Test
  void aBrokenPreludeIs502() throws Exception {
    stream.contentType(FunctionUrlStream.HTTP_INTEGRATION);
    stream.chunk(join(bytes("not json"), new byte[8], bytes("body")));
    stream.finish(STREAMED);
    assertThat(failures).isEqualTo(1);
    assertThat(heads).isEmpty();
  }

  @Test
  void aPreludeNoResponseHeadCanCarryIs502AtOnceAndTheRestIsDropped() throws Exception {
    stream.contentType(FunctionUrlStream.HTTP_INTEGRATION);
    stream.chunk(join(bytes("{\"statusCode\":101,\"headers\":{\"Upgrade\":\"websocket\"}}"), new byte[8]));
    assertThat(failures).as("answered before the function ends").isEqualTo(1);
    stream.chunk(bytes("more body"));
    stream.finish(STREAMED);
    assertThat(failures).isEqualTo(1);
    assertThat(heads).isEmpty();
    assertThat(body.size()).isZero();
  }

  @Test
  void aHandlerThatReturnsItsResultAnswersWithThePayload() throws Exception {
    stream.finish(new InvocationResult(bytes("{\"statusCode\":200}"), null, null, "$LATEST", 1, null));
    assertThat(heads.getFirst().headers()).containsEntry("Content-Type", "application/json");
    assertThat(body.toString(StandardCharsets.UTF_8)).isEqualTo("{\"statusCode\":200}");
  }
}
