package dev.kiln.worker.runtimeapi;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Just enough HTTP/1.1 for the Runtime API: request heads, Content-Length and chunked bodies (with
 * trailers, which streaming responses use for errors), and small responses. The peers are runtime
 * clients inside Kiln's own sandboxes; anything malformed ends the connection.
 */
final class HttpWire {
  private static final int MAX_LINE = 16 * 1024;
  private static final int MAX_HEADERS = 200;

  private HttpWire() {}

  /** Reads a request head, or returns null at a clean end of stream between requests. */
  static HttpRequestHead readHead(InputStream in) throws IOException {
    var requestLine = readLine(in, true);
    if (requestLine == null) {
      return null;
    }
    int first = requestLine.indexOf(' ');
    int second = requestLine.indexOf(' ', first + 1);
    if (first <= 0 || second <= first) {
      throw new HttpProtocolException("bad request line: " + requestLine);
    }
    var method = requestLine.substring(0, first);
    var target = requestLine.substring(first + 1, second);
    return new HttpRequestHead(method, target, readFields(in));
  }

  /** Header or trailer fields up to the empty line. */
  static Map<String, List<String>> readFields(InputStream in) throws IOException {
    var fields = new LinkedHashMap<String, List<String>>();
    for (int i = 0; ; i++) {
      if (i > MAX_HEADERS) {
        throw new HttpProtocolException("too many header fields");
      }
      var line = readLine(in, false);
      if (line.isEmpty()) {
        return fields;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new HttpProtocolException("bad header line");
      }
      fields.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>(1))
          .add(line.substring(colon + 1).trim());
    }
  }

  /** Reads a whole Content-Length body, refusing more than {@code limit} bytes. */
  static byte[] readFixedBody(InputStream in, long length, long limit) throws IOException {
    if (length > limit) {
      in.skipNBytes(length);
      return null;
    }
    return in.readNBytes((int) length);
  }

  /**
   * Reads the next chunk of a chunked body; returns null after the last chunk, when {@code trailers}
   * has been filled from the trailer section.
   */
  static byte[] readChunk(InputStream in, Map<String, List<String>> trailers) throws IOException {
    var sizeLine = readLine(in, false);
    int semicolon = sizeLine.indexOf(';');
    var hex = (semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim();
    int size;
    try {
      size = Integer.parseInt(hex, 16);
    } catch (NumberFormatException e) {
      throw new HttpProtocolException("bad chunk size: " + sizeLine);
    }
    if (size < 0) {
      throw new HttpProtocolException("bad chunk size: " + sizeLine);
    }
    if (size == 0) {
      trailers.putAll(readFields(in));
      return null;
    }
    var data = in.readNBytes(size);
    if (data.length < size) {
      throw new EOFException("connection closed inside a chunk");
    }
    if (!readLine(in, false).isEmpty()) {
      throw new HttpProtocolException("missing CRLF after chunk");
    }
    return data;
  }

  static void writeResponse(OutputStream out, int status, String reason, Map<String, String> headers, byte[] body)
      throws IOException {
    var head = new StringBuilder(128 + (headers.size() * 48));
    head.append("HTTP/1.1 ").append(status).append(' ').append(reason).append("\r\n");
    for (var header : headers.entrySet()) {
      head.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
    }
    head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
    out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.write(body);
    out.flush();
  }

  private static String readLine(InputStream in, boolean eofAllowed) throws IOException {
    var line = new ByteArrayOutputStream(64);
    while (true) {
      int b = in.read();
      if (b < 0) {
        if (eofAllowed && line.size() == 0) {
          return null;
        }
        throw new EOFException("connection closed mid-request");
      }
      if (b == '\n') {
        var bytes = line.toByteArray();
        int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
      if (line.size() > MAX_LINE) {
        throw new HttpProtocolException("line too long");
      }
    }
  }
}
