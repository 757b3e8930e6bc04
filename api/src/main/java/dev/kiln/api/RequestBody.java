package dev.kiln.api;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import io.helidon.webserver.http.ServerRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.function.Supplier;

/** Reads a request's body within a limit; a body whose transfer encoding is broken is the client's 400. */
final class RequestBody {
  private RequestBody() {}

  /** The body, or {@code tooLarge} as soon as it is declared or found to be longer than {@code limit}. */
  static byte[] read(ServerRequest req, long limit, Supplier<KilnException> tooLarge) throws IOException {
    var declared = req.headers().contentLength();
    if (declared.isPresent() && declared.getAsLong() > limit) {
      throw tooLarge.get();
    }
    if (!req.content().hasEntity()) {
      return new byte[0];
    }
    try (var in = req.content().inputStream()) {
      var out = new ByteArrayOutputStream(declared.isPresent() ? (int) declared.getAsLong() : 8192);
      var buffer = new byte[64 * 1024];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        if (out.size() + (long) n > limit) {
          throw tooLarge.get();
        }
        out.write(buffer, 0, n);
      }
      return out.toByteArray();
    } catch (KilnException e) {
      throw e;
    } catch (RuntimeException e) {
      // Helidon decodes the transfer encoding while we read: a chunk size that is not hex, say.
      throw new KilnException(ErrorCode.InvalidRequestContentException,
          "The request body could not be read: its transfer encoding is broken (" + e.getClass().getSimpleName() + ").");
    }
  }
}
