package dev.kiln.e2e.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.UUID;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Function packages built in memory, and the digests Lambda reports for them. */
public final class Zips {
  private Zips() {}

  /** A Node.js package with index.js; every call gets different bytes (a nonce in the source). */
  public static byte[] nodeFunction() {
    return nodeFunction("hello");
  }

  public static byte[] nodeFunction(String greeting) {
    String source =
        "// build "
            + UUID.randomUUID()
            + "\nexports.handler = async (event) => ({ greeting: '"
            + greeting
            + "', event });\n";
    return zip("index.js", source.getBytes(StandardCharsets.UTF_8));
  }

  /** A Python package with lambda_function.py. */
  public static byte[] pythonFunction() {
    String source =
        "# build "
            + UUID.randomUUID()
            + "\ndef lambda_handler(event, context):\n    return {'ok': True}\n";
    return zip("lambda_function.py", source.getBytes(StandardCharsets.UTF_8));
  }

  public static byte[] zip(String entryName, byte[] content) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry(entryName));
      zip.write(content);
      zip.closeEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** A small zip holding one file of {@code unzippedBytes} zero bytes (compresses ~1000:1). */
  public static byte[] zipOfZeros(String entryName, long unzippedBytes) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    byte[] chunk = new byte[1 << 20];
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("index.js"));
      zip.write("exports.handler = async () => 1;\n".getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
      zip.putNextEntry(new ZipEntry(entryName));
      for (long left = unzippedBytes; left > 0; left -= chunk.length) {
        zip.write(chunk, 0, (int) Math.min(chunk.length, left));
      }
      zip.closeEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Base64 of the SHA-256 of the bytes: Lambda's CodeSha256. */
  public static String sha256Base64(byte[] bytes) {
    try {
      return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static Path write(Path dir, byte[] bytes) {
    try {
      Files.createDirectories(dir);
      Path file = Files.createTempFile(dir, "fn-", ".zip");
      Files.write(file, bytes);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
