package dev.kiln.e2e.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;

/**
 * A function package with unix file modes, as {@code zip -r} on Linux writes it: regular files
 * 0644, executables 0755. Lambda (and Kiln) take the mode from the entry's external attributes, so
 * a {@code provided} bootstrap only runs if it carries the exec bit; {@link java.util.zip} cannot
 * write modes, Commons Compress can.
 */
public final class FunctionZip {
  private static final int REGULAR = 0100644;
  private static final int EXECUTABLE = 0100755;
  private static final int SYMLINK = 0120777;

  private record Entry(byte[] content, int mode) {}

  private final Map<String, Entry> entries = new LinkedHashMap<>();

  private FunctionZip() {}

  public static FunctionZip create() {
    return new FunctionZip();
  }

  /** One file, 0644. */
  public FunctionZip file(String name, String content) {
    return file(name, content.getBytes(StandardCharsets.UTF_8));
  }

  public FunctionZip file(String name, byte[] content) {
    entries.put(name, new Entry(content, REGULAR));
    return this;
  }

  /** One executable file, 0755 (a bootstrap). */
  public FunctionZip executable(String name, String content) {
    entries.put(name, new Entry(content.getBytes(StandardCharsets.UTF_8), EXECUTABLE));
    return this;
  }

  /**
   * A symbolic link entry, as {@code zip -y} writes one: the link's target is the entry's content. The name is
   * taken as given, so tests can also write names such as {@code ../x}.
   */
  public FunctionZip symlink(String name, String target) {
    entries.put(name, new Entry(target.getBytes(StandardCharsets.UTF_8), SYMLINK));
    return this;
  }

  /** Every file of a map, 0644. */
  public FunctionZip files(Map<String, byte[]> files) {
    files.forEach(this::file);
    return this;
  }

  /** A file copied from disk (a jar for lib/), 0644. */
  public FunctionZip copy(String name, Path file) {
    try {
      return file(name, Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public byte[] bytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bytes)) {
      for (var e : entries.entrySet()) {
        ZipArchiveEntry entry = new ZipArchiveEntry(e.getKey());
        entry.setUnixMode(e.getValue().mode());
        entry.setSize(e.getValue().content().length);
        zip.putArchiveEntry(entry);
        zip.write(e.getValue().content());
        zip.closeArchiveEntry();
      }
      zip.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
