package dev.kiln.api;

import io.helidon.common.uri.UriQuery;
import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.ServerResponseTrailers;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;
import java.io.OutputStream;
import java.util.function.UnaryOperator;

/**
 * The response to a HEAD request: status and headers as a GET would get them, never a body. The
 * HTTP server writes whatever body it is given, and a client reads none after a HEAD, so those
 * bytes would be taken for the next response on the connection (a function's body could pose as
 * one). Every route answers through this, whatever it tries to send.
 */
final class HeadResponse implements ServerResponse {
  private final ServerResponse response;

  HeadResponse(ServerResponse response) {
    this.response = response;
  }

  @Override
  public void send(byte[] entity) {
    response.headers().set(HeaderNames.CONTENT_LENGTH, String.valueOf(entity.length));
    response.send();
  }

  @Override
  public void send(Object entity) {
    response.send();
  }

  @Override
  public void send() {
    response.send();
  }

  /** The head goes now; what is written to the body goes nowhere. */
  @Override
  public OutputStream outputStream() {
    if (!response.isSent()) {
      response.send();
    }
    return OutputStream.nullOutputStream();
  }

  @Override
  public ServerResponse status(Status status) {
    response.status(status);
    return this;
  }

  @Override
  public Status status() {
    return response.status();
  }

  @Override
  public ServerResponse header(Header header) {
    response.header(header);
    return this;
  }

  @Override
  public boolean isSent() {
    return response.isSent();
  }

  @Override
  public long bytesWritten() {
    return response.bytesWritten();
  }

  @Override
  public ServerResponse whenSent(Runnable listener) {
    response.whenSent(listener);
    return this;
  }

  @Override
  public ServerResponse reroute(String newPath) {
    response.reroute(newPath);
    return this;
  }

  @Override
  public ServerResponse reroute(String path, UriQuery query) {
    response.reroute(path, query);
    return this;
  }

  @Override
  public ServerResponse next() {
    response.next();
    return this;
  }

  @Override
  public ServerResponseHeaders headers() {
    return response.headers();
  }

  @Override
  public ServerResponseTrailers trailers() {
    return response.trailers();
  }

  @Override
  public void streamResult(String result) {
    response.streamResult(result);
  }

  @Override
  public void streamFilter(UnaryOperator<OutputStream> filter) {
    response.streamFilter(filter);
  }
}
