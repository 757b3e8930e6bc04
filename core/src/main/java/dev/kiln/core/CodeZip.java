package dev.kiln.core;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A deployment package read strictly, the one way Kiln reads zips: the control plane checks an upload with it and
 * the worker extracts with it, so both see the same entries and count the same bytes.
 *
 * <p>A zip has two descriptions of its entries, the central directory at its end and a local header before each
 * entry's data, and readers disagree about which to trust: a package whose local headers are cut short (a stream
 * reader stops there) or whose central directory points several entries at the same data (each one extracted in
 * full) looks small to one reader and huge to another. So this reader takes the central directory and refuses
 * the package unless each entry's local header is where the directory says and agrees with it (name, method,
 * sizes, checksum), the entries' data do not overlap and lie before the directory, no name appears twice, and
 * inflating an entry gives exactly the size and CRC-32 both headers name. Sizes are counted as they are written,
 * never taken from a header, against a limit for the whole package.
 */
public final class CodeZip {
  private static final int LOCAL_HEADER = 0x04034b50;
  private static final int CENTRAL_HEADER = 0x02014b50;
  private static final int END_OF_DIRECTORY = 0x06054b50;
  private static final int ZIP64_END_OF_DIRECTORY = 0x06064b50;
  private static final int ZIP64_LOCATOR = 0x07064b50;
  private static final int STORED = 0;
  private static final int DEFLATED = 8;
  private static final int UNIX_HOST = 3;

  /** One file or directory of the package, as its central directory names it (checked against its local header). */
  public record Entry(String name, int method, long compressedSize, long size, long crc, long localHeaderOffset,
      long dataOffset, int unixMode) {
    public boolean isDirectory() {
      return name.endsWith("/");
    }

    /** Whether the entry is a symbolic link (a Unix mode of type link). */
    public boolean isSymbolicLink() {
      return (unixMode & 0170000) == 0120000;
    }
  }

  /** The package cannot be read safely; the message says why (for logs, not for clients). */
  public static class InvalidZip extends IOException {
    public InvalidZip(String message) {
      super(message);
    }
  }

  /** The package inflates to more than the limit it was read with. */
  public static final class TooLarge extends InvalidZip {
    public TooLarge(long limit) {
      super("the package inflates to more than " + limit + " bytes");
    }
  }

  private final ByteBuffer zip;
  private final List<Entry> entries;

  private CodeZip(ByteBuffer zip, List<Entry> entries) {
    this.zip = zip;
    this.entries = entries;
  }

  /** Reads and checks the package's structure (nothing is inflated yet). */
  public static CodeZip read(ByteBuffer bytes) throws InvalidZip {
    ByteBuffer zip = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    try {
      return new CodeZip(zip, List.copyOf(entries(zip)));
    } catch (IndexOutOfBoundsException | IllegalArgumentException | ArithmeticException
        | java.nio.BufferUnderflowException e) {
      throw new InvalidZip("a header points outside the package: " + e.getMessage());
    }
  }

  public List<Entry> entries() {
    return entries;
  }

  /**
   * Inflates every entry without keeping it, and returns the total size.
   *
   * @throws TooLarge as soon as more than {@code limit} bytes came out
   */
  public long check(long limit) throws InvalidZip {
    long total = 0;
    var discard = OutputStream.nullOutputStream();
    for (Entry entry : entries) {
      try {
        total += inflate(entry, discard, limit - total);
      } catch (InvalidZip e) {
        throw e;
      } catch (IOException e) {
        throw new InvalidZip(e.getMessage()); // not thrown by a null stream
      }
    }
    return total;
  }

  /**
   * Writes the entry's content to {@code out} and returns its size.
   *
   * @throws TooLarge when it would write more than {@code budget} bytes (what was written before stays written)
   * @throws InvalidZip when the data does not inflate to the size and CRC-32 the headers name
   */
  public long inflate(Entry entry, OutputStream out, long budget) throws IOException {
    if (entry.size() > budget) {
      throw new TooLarge(budget);
    }
    ByteBuffer data = zip.duplicate().position(Math.toIntExact(entry.dataOffset()))
        .limit(Math.toIntExact(entry.dataOffset() + entry.compressedSize())).slice();
    var crc = new CRC32();
    byte[] buffer = new byte[64 * 1024];
    long written = 0;
    if (entry.method() == STORED) {
      while (data.hasRemaining()) {
        int n = Math.min(buffer.length, data.remaining());
        data.get(buffer, 0, n);
        written = write(out, buffer, n, crc, written, budget);
      }
    } else {
      var inflater = new Inflater(true);
      boolean padded = false;
      try {
        inflater.setInput(data);
        while (!inflater.finished()) {
          int n = inflater.inflate(buffer);
          if (n == 0 && inflater.needsInput() && !padded) {
            // zlib without its wrapper may want one byte past the data to see the end (as the JDK's ZipFile gives)
            inflater.setInput(new byte[1]);
            padded = true;
            continue;
          }
          if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
            throw new InvalidZip(entry.name() + ": its deflated data ends early");
          }
          written = write(out, buffer, n, crc, written, budget);
        }
        if (!padded && inflater.getRemaining() != 0) {
          throw new InvalidZip(entry.name() + ": its deflated data ends before its compressed size");
        }
      } catch (DataFormatException e) {
        throw new InvalidZip(entry.name() + ": its deflated data is corrupt");
      } finally {
        inflater.end();
      }
    }
    if (written != entry.size() || crc.getValue() != entry.crc()) {
      throw new InvalidZip(entry.name() + ": inflates to " + written + " bytes, not the " + entry.size()
          + " its headers name, or its checksum differs");
    }
    return written;
  }

  private static long write(OutputStream out, byte[] buffer, int n, CRC32 crc, long written, long budget)
      throws IOException {
    if (written + n > budget) {
      throw new TooLarge(budget);
    }
    crc.update(buffer, 0, n);
    out.write(buffer, 0, n);
    return written + n;
  }

  // ------------------------------------------------------------------------------------------ structure

  private static List<Entry> entries(ByteBuffer zip) throws InvalidZip {
    int end = findEndOfDirectory(zip);
    if (zip.getShort(end + 4) != 0 || zip.getShort(end + 6) != 0) {
      throw new InvalidZip("a package split over several disks");
    }
    long count = u16(zip, end + 10);
    long directorySize = u32(zip, end + 12);
    long directoryOffset = u32(zip, end + 16);
    long directoryEnd = end;
    int locator = end - 20;
    boolean zip64 = locator >= 0 && zip.getInt(locator) == ZIP64_LOCATOR; // some tools write one always
    if (!zip64 && (count == 0xFFFF || directorySize == 0xFFFFFFFFL || directoryOffset == 0xFFFFFFFFL)) {
      throw new InvalidZip("a ZIP64 package without its locator");
    }
    if (zip64) {
      int record = Math.toIntExact(zip.getLong(locator + 8));
      if (zip.getInt(record) != ZIP64_END_OF_DIRECTORY || record + 56 > locator) {
        throw new InvalidZip("a ZIP64 locator that points at no ZIP64 directory end");
      }
      count = zip.getLong(record + 32);
      directorySize = zip.getLong(record + 40);
      directoryOffset = zip.getLong(record + 48);
      directoryEnd = record;
    }
    if (directoryOffset < 0 || directorySize < 0 || directoryOffset + directorySize != directoryEnd) {
      throw new InvalidZip("the central directory is not where its end record says");
    }
    var result = new ArrayList<Entry>();
    var names = new HashSet<String>();
    int at = Math.toIntExact(directoryOffset);
    for (long i = 0; i < count; i++) {
      if (at + 46 > directoryEnd || zip.getInt(at) != CENTRAL_HEADER) {
        throw new InvalidZip("central directory entry " + i + " is damaged");
      }
      int madeBy = u16(zip, at + 4);
      int flags = u16(zip, at + 8);
      int method = u16(zip, at + 10);
      long crc = u32(zip, at + 16);
      long compressed = u32(zip, at + 20);
      long size = u32(zip, at + 24);
      int nameLength = u16(zip, at + 28);
      int extraLength = u16(zip, at + 30);
      int commentLength = u16(zip, at + 32);
      long external = u32(zip, at + 38);
      long local = u32(zip, at + 42);
      byte[] nameBytes = bytes(zip, at + 46, nameLength);
      var wide = zip64(zip, at + 46 + nameLength, extraLength, size, compressed, local);
      size = wide[0];
      compressed = wide[1];
      local = wide[2];
      at += 46 + nameLength + extraLength + commentLength;
      if (at > directoryEnd) {
        throw new InvalidZip("central directory entry " + i + " runs past the directory");
      }
      String name = new String(nameBytes, StandardCharsets.UTF_8);
      if ((flags & 1) != 0) {
        throw new InvalidZip(name + ": encrypted");
      }
      if (method != STORED && method != DEFLATED) {
        throw new InvalidZip(name + ": compression method " + method + " (only stored and deflated)");
      }
      if (method == STORED && compressed != size) {
        throw new InvalidZip(name + ": stored, but its sizes differ");
      }
      if (name.isEmpty() || name.indexOf('\0') >= 0 || !names.add(name)) {
        throw new InvalidZip("an empty, invalid or repeated entry name: " + name);
      }
      long dataOffset = checkLocalHeader(zip, name, nameBytes, flags, method, crc, compressed, size, local);
      if (dataOffset + compressed > directoryOffset) {
        throw new InvalidZip(name + ": its data runs into the central directory");
      }
      int unixMode = (madeBy >> 8) == UNIX_HOST ? (int) (external >>> 16) : 0;
      result.add(new Entry(name, method, compressed, size, crc, local, dataOffset, unixMode));
    }
    if (at != directoryEnd) {
      throw new InvalidZip("the central directory holds more than its end record counts");
    }
    // Each entry's header and data in a span of its own: overlapping entries would inflate the same bytes again.
    var byOffset = new ArrayList<>(result);
    byOffset.sort(Comparator.comparingLong(Entry::localHeaderOffset));
    long previousEnd = 0;
    for (Entry e : byOffset) {
      if (e.localHeaderOffset() < previousEnd) {
        throw new InvalidZip(e.name() + ": overlaps the entry before it");
      }
      previousEnd = e.dataOffset() + e.compressedSize();
    }
    return result;
  }

  /** The local header must be where the directory says and agree with it; returns where the entry's data starts. */
  private static long checkLocalHeader(ByteBuffer zip, String name, byte[] nameBytes, int flags, int method, long crc,
      long compressed, long size, long offset) throws InvalidZip {
    if (offset + 30 > zip.limit()) {
      throw new InvalidZip(name + ": its local header is outside the package");
    }
    int at = Math.toIntExact(offset);
    if (zip.getInt(at) != LOCAL_HEADER) {
      throw new InvalidZip(name + ": no local header where the central directory says");
    }
    int localFlags = u16(zip, at + 6);
    int localMethod = u16(zip, at + 8);
    long localCrc = u32(zip, at + 14);
    long localCompressed = u32(zip, at + 18);
    long localSize = u32(zip, at + 22);
    int nameLength = u16(zip, at + 26);
    int extraLength = u16(zip, at + 28);
    if (localMethod != method || (localFlags & 1) != (flags & 1)
        || !Arrays.equals(bytes(zip, at + 30, nameLength), nameBytes)) {
      throw new InvalidZip(name + ": its local header does not match the central directory");
    }
    boolean descriptor = (localFlags & 8) != 0;
    if (!descriptor) { // sizes and CRC in the local header too: they must be the directory's
      var wide = zip64(zip, at + 30 + nameLength, extraLength, localSize, localCompressed, 0);
      if (localCrc != crc || wide[0] != size || wide[1] != compressed) {
        throw new InvalidZip(name + ": its local header's sizes or checksum differ from the central directory's");
      }
    }
    long data = offset + 30 + nameLength + extraLength;
    if (data + compressed > zip.limit()) {
      throw new InvalidZip(name + ": its data runs past the end of the package");
    }
    return data;
  }

  /** {size, compressed, offset}, each replaced by its ZIP64 extra field value when it is 0xFFFFFFFF. */
  private static long[] zip64(ByteBuffer zip, int extra, int length, long size, long compressed, long offset)
      throws InvalidZip {
    long[] values = {size, compressed, offset};
    if (size != 0xFFFFFFFFL && compressed != 0xFFFFFFFFL && offset != 0xFFFFFFFFL) {
      return values;
    }
    for (int at = extra; at + 4 <= extra + length; ) {
      int id = u16(zip, at);
      int fieldLength = u16(zip, at + 2);
      if (id == 1) {
        int p = at + 4;
        for (int i = 0; i < 3; i++) {
          if (values[i] == 0xFFFFFFFFL) {
            if (p + 8 > at + 4 + fieldLength) throw new InvalidZip("a ZIP64 field too short");
            values[i] = zip.getLong(p);
            p += 8;
          }
        }
        if (values[0] < 0 || values[1] < 0 || values[2] < 0) throw new InvalidZip("a negative ZIP64 size");
        return values;
      }
      at += 4 + fieldLength;
    }
    throw new InvalidZip("a size of 0xFFFFFFFF without its ZIP64 field");
  }

  private static int findEndOfDirectory(ByteBuffer zip) throws InvalidZip {
    int size = zip.limit();
    for (int at = size - 22; at >= Math.max(0, size - 22 - 0xFFFF); at--) {
      if (zip.getInt(at) == END_OF_DIRECTORY && at + 22 + u16(zip, at + 20) == size) {
        return at;
      }
    }
    throw new InvalidZip("no end of central directory record");
  }

  private static byte[] bytes(ByteBuffer zip, int at, int length) {
    byte[] b = new byte[length];
    zip.get(at, b);
    return b;
  }

  private static int u16(ByteBuffer zip, int at) {
    return Short.toUnsignedInt(zip.getShort(at));
  }

  private static long u32(ByteBuffer zip, int at) {
    return Integer.toUnsignedLong(zip.getInt(at));
  }
}
