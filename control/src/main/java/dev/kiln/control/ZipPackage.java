package dev.kiln.control;

import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import dev.kiln.core.Limits;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

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
    long unzipped = 0;
    int entries = 0;
    byte[] buffer = new byte[64 * 1024];
    try (var in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (var entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
        entries++;
        // Count what actually inflates, not what the header claims: headers can lie.
        for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
          unzipped += n;
          if (unzipped > Limits.MAX_UNZIPPED_BYTES) {
            throw KilnException.invalid(
                "Unzipped size must be smaller than " + Limits.MAX_UNZIPPED_BYTES + " bytes");
          }
        }
      }
    } catch (ZipException | IllegalArgumentException e) {
      throw unreadable();
    } catch (IOException e) {
      throw unreadable();
    }
    if (entries == 0) {
      throw unreadable();
    }
    return unzipped;
  }

  private static KilnException unreadable() {
    return KilnException.invalid("Could not unzip uploaded file. Please check your file, then try to upload again.");
  }
}
