package dev.kiln.e2e.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sends bytes no HTTP client would send (a malformed request line, a header without a colon, a
 * broken chunked body) over a plain socket and reads the one response that comes back.
 */
public final class RawHttp {
  private RawHttp() {}

  /** The response: status, headers by lower-case name, body as text. */
  public record Response(int status, Map<String, List<String>> headers, String body) {
    public String header(String name) {
      var values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null ? null : values.getFirst();
    }
  }

  /** Sends {@code request} to 127.0.0.1:port and reads the response (its Content-Length, or up to close). */
  public static Response send(int port, String request) {
    try (var socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(15_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      return read(socket.getInputStream());
    } catch (SocketTimeoutException e) {
      throw new AssertionError("no response within 15 s to " + request.lines().findFirst().orElse(""), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Sends each request in turn over one connection, each after the previous response was read (a
   * HEAD request's response has no body to read), and returns the responses.
   */
  public static List<Response> inTurn(int port, String... requests) {
    try (var socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(15_000);
      List<Response> responses = new ArrayList<>();
      for (var request : requests) {
        socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
        responses.add(read(socket.getInputStream(), !request.startsWith("HEAD ")));
      }
      return responses;
    } catch (SocketTimeoutException e) {
      throw new AssertionError("a response did not come within 15 s", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Response read(InputStream in) throws IOException {
    return read(in, true);
  }

  private static Response read(InputStream in, boolean withBody) throws IOException {
    var head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        throw new AssertionError("the connection closed before a response head: " + head);
      }
      head.write(b);
      matched = (b == '\r' || b == '\n') && "\r\n\r\n".charAt(matched) == b ? matched + 1 : b == '\r' ? 1 : 0;
    }
    var parsed = ResponseHead.parse(head.toString(StandardCharsets.ISO_8859_1));
    var length = parsed.headers().get("content-length");
    byte[] body = !withBody ? new byte[0]
        : length == null ? in.readAllBytes() : in.readNBytes(Integer.parseInt(length.getFirst()));
    return new Response(parsed.status(), parsed.headers(), new String(body, StandardCharsets.UTF_8));
  }
}
