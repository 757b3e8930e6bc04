package dev.kiln.control;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import dev.kiln.core.Limits;
import dev.kiln.core.CodeZip;
import java.nio.ByteBuffer;

/** Checks an uploaded deployment package the way Lambda does before accepting it. */
final class ZipPackage {
  private ZipPackage() {}

  /** Returns the unzipped size, or throws the error Lambda gives for a package it cannot take. */
  static long validate(byte[] zip) {
    if (zip == null || zip.length == 0) {
      throw KilnException.invalid("Code.ZipFile must not be empty. Upload a .zip deployment package.");
    }
    if (zip.length > Limits.MAX_ZIPPED_UPLOAD_BYTES) {
      throw new KilnException(ErrorCode.RequestTooLargeException,
          "Zipped size must be smaller than " + Limits.MAX_ZIPPED_UPLOAD_BYTES + " bytes");
    }
    // The worker extracts with the same reader: what is counted here is what it would write.
    try {
      var code = CodeZip.read(ByteBuffer.wrap(zip));
      if (code.entries().isEmpty()) {
        throw unreadable();
      }
      return code.check(Limits.MAX_UNZIPPED_BYTES);
    } catch (CodeZip.TooLarge e) {
      throw KilnException.invalid("Unzipped size must be smaller than " + Limits.MAX_UNZIPPED_BYTES + " bytes");
    } catch (CodeZip.InvalidZip e) {
      throw unreadable();
    }
  }

  private static KilnException unreadable() {
    return KilnException.invalid("Could not unzip uploaded file. Please check your file, then try to upload again.");
  }
}
