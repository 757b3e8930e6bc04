package dev.kiln.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Frames for the AWS event stream encoding (application/vnd.amazon.eventstream) that
 * InvokeWithResponseStream answers in: prelude (total length, headers length, CRC), string
 * headers, payload, message CRC.
 */
final class EventStream {
  private static final byte STRING_HEADER = 7;

  private EventStream() {}

  static void writeEvent(OutputStream out, String eventType, String contentType, byte[] payload) throws IOException {
    var headers = new LinkedHashMap<String, String>();
    headers.put(":event-type", eventType);
    headers.put(":content-type", contentType);
    headers.put(":message-type", "event");
    out.write(frame(headers, payload));
    out.flush();
  }

  static byte[] frame(Map<String, String> headers, byte[] payload) {
    var headerBytes = new ByteArrayOutputStream();
    for (var header : headers.entrySet()) {
      var name = header.getKey().getBytes(StandardCharsets.UTF_8);
      var value = header.getValue().getBytes(StandardCharsets.UTF_8);
      headerBytes.write(name.length);
      headerBytes.writeBytes(name);
      headerBytes.write(STRING_HEADER);
      headerBytes.write((value.length >> 8) & 0xff);
      headerBytes.write(value.length & 0xff);
      headerBytes.writeBytes(value);
    }
    var encodedHeaders = headerBytes.toByteArray();
    int total = 12 + encodedHeaders.length + payload.length + 4;
    var buffer = ByteBuffer.allocate(total);
    buffer.putInt(total).putInt(encodedHeaders.length);
    buffer.putInt((int) crc(buffer.array(), 0, 8));
    buffer.put(encodedHeaders).put(payload);
    buffer.putInt((int) crc(buffer.array(), 0, total - 4));
    return buffer.array();
  }

  private static long crc(byte[] bytes, int offset, int length) {
    var crc = new CRC32();
    crc.update(bytes, offset, length);
    return crc.getValue();
  }
}
