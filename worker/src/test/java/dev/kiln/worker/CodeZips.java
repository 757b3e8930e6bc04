package dev.kiln.worker;

import dev.kiln.core.CodeRef;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Function code for worker tests: a one-file zip, stored where the test's code cache finds it by its SHA-256. */
final class CodeZips {
  private CodeZips() {}

  /** Zips {@code source} as {@code fileName}, writes it into {@code dir} and adds it to {@code zips} by its SHA-256. */
  static CodeRef store(Path dir, Map<String, Path> zips, String fileName, String source) throws IOException {
    var zip = zip(fileName, source);
    var sha = sha256(zip);
    var file = dir.resolve(sha + ".zip");
    Files.write(file, zip);
    zips.put(sha, file);
    return new CodeRef(sha, zip.length);
  }

  private static byte[] zip(String fileName, String source) throws IOException {
    var bytes = new ByteArrayOutputStream();
    try (var zip = new ZipOutputStream(bytes)) {
      var entry = new ZipEntry(fileName);
      // A fixed time keeps the bytes, and so the code's SHA-256, the same for the same source.
      entry.setTime(0);
      zip.putNextEntry(entry);
      zip.write(source.getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
