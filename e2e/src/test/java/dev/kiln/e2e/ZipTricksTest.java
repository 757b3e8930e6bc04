package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.e2e.support.Functions;
import dev.kiln.e2e.support.InvokeTestBase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.lambda.model.InvalidParameterValueException;

/**
 * Deployment packages crafted to look small to one zip reader and huge to another (issue 11, break 2), sent
 * through the AWS SDK: refused with Lambda's error, nothing written to disk. And the code cache holds only trees
 * of packages a function version uses: deleting the function or replacing its code removes them, and a restart
 * removes any nobody uses.
 */
class ZipTricksTest extends InvokeTestBase {
  private static final long LIMIT = 262_144_000L;
  private static final String TOO_LARGE = "Unzipped size must be smaller than 262144000 bytes";
  private static final String UNREADABLE = "Could not unzip uploaded file";
  private static final byte[] HANDLER =
      "def handler(event, context):\n    return {'ok': True}\n".getBytes(StandardCharsets.UTF_8);

  /** One entry of a crafted zip: its local header goes at {@code offset} (set when written). */
  private record Piece(String name, int method, long crc, byte[] data, long size) {}

  @Test
  void junkBeforeALocalHeaderDoesNotHideABigEntry() throws Exception {
    // A stream reader stops at the junk and sees only the handler; the central directory lists 400 MB more.
    var zip = new Crafted();
    zip.add(stored("lambda_function.py", HANDLER), 0);
    zip.junk(4096);
    zip.add(zeros("big.bin", 400L * 1024 * 1024), zip.position());
    byte[] bytes = zip.finish();
    assertThat(bytes.length).as("a small upload").isLessThan(1024 * 1024);
    assertRefusedWithoutDiskGrowth(bytes, TOO_LARGE);
  }

  @Test
  void localHeadersCutShortAreRefused() throws Exception {
    // The big entry's local header is overwritten by junk; the central directory still points at it.
    var zip = new Crafted();
    zip.add(stored("lambda_function.py", HANDLER), 0);
    long at = zip.position();
    zip.add(zeros("big.bin", 400L * 1024 * 1024), at);
    zip.overwrite(at, "JUNK-JUNK-JUNK-JUNK-JUNK".getBytes(StandardCharsets.US_ASCII));
    assertRefusedWithoutDiskGrowth(zip.finish(), UNREADABLE);
  }

  @Test
  void overlappingCentralDirectoryEntriesAreRefused() throws Exception {
    // One 100 MB entry's data, named five times by the central directory: 500 MB from 100 KB.
    var zip = new Crafted();
    var part = zeros("part-0.bin", 100L * 1024 * 1024);
    zip.add(stored("lambda_function.py", HANDLER), 0);
    long at = zip.position();
    zip.add(part, at);
    for (int i = 1; i < 5; i++) {
      zip.alias(new Piece("part-" + i + ".bin", part.method(), part.crc(), part.data(), part.size()), at);
    }
    assertRefusedWithoutDiskGrowth(zip.finish(), UNREADABLE);
  }

  @Test
  void anOrdinaryPackageJustUnderTheLimitIsTaken() throws Exception {
    var zip = new Crafted();
    zip.add(stored("lambda_function.py", HANDLER), 0);
    zip.add(zeros("data.bin", LIMIT - 1024 * 1024), zip.position());
    String name = deploy("zip-ok", "python3.12", "lambda_function.handler", zip.finish());
    assertThat(invoke(name, "{}").ok().path("ok").asBoolean()).isTrue();
    lambda.deleteFunction(b -> b.functionName(name));
  }

  @Test
  void codeTreesGoWhenNoVersionUsesThem() throws Exception {
    byte[] first = Functions.python("def handler(e, c):\n    return {'v': 1}\n");
    byte[] second = Functions.python("def handler(e, c):\n    return {'v': 2}\n");
    String name = deploy("zip-cache", "python3.12", "lambda_function.handler", first);
    assertThat(invoke(name, "{}").ok().path("v").asInt()).isEqualTo(1);
    assertThat(tree(first)).isDirectory();

    lambda.updateFunctionCode(b -> b.functionName(name).zipFile(SdkBytes.fromByteArray(second)));
    awaitUpdated(name);
    assertThat(invoke(name, "{}").ok().path("v").asInt()).isEqualTo(2);
    awaitGone(tree(first), "the replaced code's tree");
    assertThat(tree(second)).isDirectory();

    cli.lambda("delete-function", "--function-name", name);
    awaitGone(tree(second), "the deleted function's tree");
  }

  @Test
  void aRestartRemovesTreesNobodyUses() throws Exception {
    byte[] kept = Functions.python("def handler(e, c):\n    return {'kept': True}\n");
    String name = deploy("zip-kept", "python3.12", "lambda_function.handler", kept);
    invoke(name, "{}").ok();
    Path stray = server.dataDir().resolve("cache/code").resolve("ab".repeat(32));
    Files.createDirectories(stray.resolve("lib"));
    Files.writeString(stray.resolve("lib/left-over.py"), "x = 1\n");

    server.stop();
    server.restart();
    connectClients();
    assertThat(stray).as("a tree no version uses").doesNotExist();
    assertThat(tree(kept)).as("a tree a function uses").isDirectory();
    assertThat(invoke(name, "{}").ok().path("kept").asBoolean()).isTrue();
    lambda.deleteFunction(b -> b.functionName(name));
  }

  private void assertRefusedWithoutDiskGrowth(byte[] zip, String message) throws IOException {
    long before = bytesUnder(server.dataDir());
    String name = uniqueName("zip-trick");
    assertThatThrownBy(() -> createFunction(name, zip, b -> b.runtime("python3.12").handler("lambda_function.handler")))
        .isInstanceOf(InvalidParameterValueException.class)
        .hasMessageContaining(message);
    // UpdateFunctionCode takes the same check.
    String ok = deploy("zip-target", "python3.12", "lambda_function.handler", Functions.python("def handler(e, c):\n  return 1\n"));
    assertThatThrownBy(() -> lambda.updateFunctionCode(b -> b.functionName(ok).zipFile(SdkBytes.fromByteArray(zip))))
        .isInstanceOf(InvalidParameterValueException.class)
        .hasMessageContaining(message);
    lambda.deleteFunction(b -> b.functionName(ok));
    assertThat(lambda.listFunctions().functions()).noneMatch(f -> f.functionName().equals(name));
    assertThat(bytesUnder(server.dataDir()) - before).as("bytes the data directory grew by").isLessThan(8L << 20);
  }

  private Path tree(byte[] zip) throws Exception {
    String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(zip));
    return server.dataDir().resolve("cache/code").resolve(hex);
  }

  private static void awaitGone(Path path, String what) {
    Awaitility.await(what + " removed").atMost(Duration.ofSeconds(20)).until(() -> !Files.exists(path));
  }

  private static long bytesUnder(Path dir) throws IOException {
    try (var walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException gone) {
          return 0;
        }
      }).sum();
    }
  }

  private static Piece stored(String name, byte[] data) {
    var crc = new CRC32();
    crc.update(data);
    return new Piece(name, 0, crc.getValue(), data, data.length);
  }

  /** {@code size} zero bytes, deflated (about a thousandth of their size). */
  private static Piece zeros(String name, long size) {
    var deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
    var crc = new CRC32();
    var out = new ByteArrayOutputStream();
    byte[] chunk = new byte[1 << 20];
    byte[] buffer = new byte[1 << 16];
    for (long left = size; left > 0; left -= chunk.length) {
      int n = (int) Math.min(chunk.length, left);
      crc.update(chunk, 0, n);
      deflater.setInput(chunk, 0, n);
      while (!deflater.needsInput()) {
        out.write(buffer, 0, deflater.deflate(buffer));
      }
    }
    deflater.finish();
    while (!deflater.finished()) {
      out.write(buffer, 0, deflater.deflate(buffer));
    }
    deflater.end();
    return new Piece(name, 8, crc.getValue(), out.toByteArray(), size);
  }

  /** A zip written by hand: local entries, junk where asked, and a central directory naming what it is told. */
  private static final class Crafted {
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private final List<Piece> listed = new ArrayList<>();
    private final List<Long> offsets = new ArrayList<>();
    private final List<Overwrite> overwrites = new ArrayList<>();

    private record Overwrite(long at, byte[] bytes) {}

    long position() {
      return body.size();
    }

    /** Writes the entry's local header and data here, and lists it at {@code offset} in the directory. */
    void add(Piece p, long offset) {
      byte[] name = p.name().getBytes(StandardCharsets.UTF_8);
      var h = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
      h.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) p.method())
          .putShort((short) 0).putShort((short) 0x21).putInt((int) p.crc()).putInt(p.data().length)
          .putInt((int) p.size()).putShort((short) name.length).putShort((short) 0);
      body.writeBytes(h.array());
      body.writeBytes(name);
      body.writeBytes(p.data());
      alias(p, offset);
    }

    /** Lists an entry in the central directory only, pointing at a local header already written. */
    void alias(Piece p, long offset) {
      listed.add(p);
      offsets.add(offset);
    }

    void junk(int bytes) {
      byte[] junk = new byte[bytes];
      java.util.Arrays.fill(junk, (byte) 'J');
      body.writeBytes(junk);
    }

    /** Bytes written over the finished zip at {@code at} (a header cut short). */
    void overwrite(long at, byte[] bytes) {
      overwrites.add(new Overwrite(at, bytes));
    }

    byte[] finish() {
      long directoryOffset = body.size();
      var directory = new ByteArrayOutputStream();
      for (int i = 0; i < listed.size(); i++) {
        Piece p = listed.get(i);
        byte[] name = p.name().getBytes(StandardCharsets.UTF_8);
        var h = ByteBuffer.allocate(46).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0x02014b50).putShort((short) 0x0314).putShort((short) 20).putShort((short) 0)
            .putShort((short) p.method()).putShort((short) 0).putShort((short) 0x21).putInt((int) p.crc())
            .putInt(p.data().length).putInt((int) p.size()).putShort((short) name.length).putShort((short) 0)
            .putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0100644 << 16)
            .putInt((int) (long) offsets.get(i));
        directory.writeBytes(h.array());
        directory.writeBytes(name);
      }
      var end = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
      end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) listed.size())
          .putShort((short) listed.size()).putInt(directory.size()).putInt((int) directoryOffset).putShort((short) 0);
      byte[] all = new byte[body.size() + directory.size() + 22];
      System.arraycopy(body.toByteArray(), 0, all, 0, body.size());
      System.arraycopy(directory.toByteArray(), 0, all, body.size(), directory.size());
      System.arraycopy(end.array(), 0, all, body.size() + directory.size(), 22);
      for (Overwrite o : overwrites) {
        System.arraycopy(o.bytes(), 0, all, (int) o.at(), o.bytes().length);
      }
      return all;
    }
  }
}
