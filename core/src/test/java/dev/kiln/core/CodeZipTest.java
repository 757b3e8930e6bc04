package dev.kiln.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The strict reader takes the packages real tools make (Info-ZIP's zip, Python's zipfile, the JDK's
 * ZipOutputStream with data descriptors, ZIP64 records) and refuses damaged ones.
 */
class CodeZipTest {
  @TempDir Path temp;

  private Path sources() throws Exception {
    Path dir = Files.createDirectories(temp.resolve("src/lib"));
    Files.writeString(dir.getParent().resolve("index.js"), "exports.handler = async () => 1;\n");
    Files.writeString(dir.resolve("big.txt"), "line\n".repeat(100_000));
    Files.writeString(dir.getParent().resolve("bootstrap"), "#!/bin/sh\n");
    dir.getParent().resolve("bootstrap").toFile().setExecutable(true, true);
    return dir.getParent();
  }

  private static Map<String, String> read(byte[] zip) throws Exception {
    var code = CodeZip.read(ByteBuffer.wrap(zip));
    var files = new TreeMap<String, String>();
    for (var entry : code.entries()) {
      if (entry.isDirectory()) continue;
      var out = new ByteArrayOutputStream();
      code.inflate(entry, out, Long.MAX_VALUE);
      files.put(entry.name(), out.toString(StandardCharsets.UTF_8).substring(0, Math.min(10, out.size())));
    }
    return files;
  }

  private static void run(Path dir, String... command) throws Exception {
    var p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
  }

  @Test
  void infoZipAndItsZip64AndStreamedFormsAreRead() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/zip")), "Info-ZIP's zip is not installed");
    Path src = sources();
    run(src, "/usr/bin/zip", "-q", "-r", "../plain.zip", ".");
    run(src, "/usr/bin/zip", "-q", "-r", "-fz", "../zip64.zip", ".");
    run(src, "/bin/sh", "-c", "cat index.js | /usr/bin/zip -q - - > ../streamed.zip");
    for (String name : List.of("plain.zip", "zip64.zip")) {
      var code = CodeZip.read(ByteBuffer.wrap(Files.readAllBytes(temp.resolve(name))));
      assertThat(read(Files.readAllBytes(temp.resolve(name)))).as(name)
          .containsEntry("index.js", "exports.ha").containsEntry("lib/big.txt", "line\nline\n");
      assertThat(code.check(Long.MAX_VALUE)).as(name).isEqualTo(500_000 + 33 + 10);
      assertThat(code.entries()).filteredOn(e -> e.name().equals("bootstrap"))
          .allMatch(e -> (e.unixMode() & 0100) != 0);
    }
    assertThat(read(Files.readAllBytes(temp.resolve("streamed.zip")))).containsEntry("-", "exports.ha");
  }

  @Test
  void pythonAndJdkZipsAreRead() throws Exception {
    Path src = sources();
    if (Files.isExecutable(Path.of("/usr/bin/python3"))) {
      run(src, "/usr/bin/python3", "-c", """
          import zipfile
          with zipfile.ZipFile('../py.zip', 'w', zipfile.ZIP_DEFLATED) as z:
              z.write('index.js'); z.write('lib/big.txt')
          """);
      assertThat(read(Files.readAllBytes(temp.resolve("py.zip")))).containsOnlyKeys("index.js", "lib/big.txt");
    }
    var bytes = new ByteArrayOutputStream();
    try (var zip = new ZipOutputStream(bytes)) { // deflated entries with data descriptors
      zip.putNextEntry(new ZipEntry("a/"));
      zip.putNextEntry(new ZipEntry("a/x.txt"));
      zip.write("hello hello hello".getBytes(StandardCharsets.UTF_8));
      zip.putNextEntry(new ZipEntry("y.txt"));
      zip.write(new byte[0]);
    }
    assertThat(read(bytes.toByteArray())).containsEntry("a/x.txt", "hello hell").containsEntry("y.txt", "");
    assertThat(CodeZip.read(ByteBuffer.wrap(bytes.toByteArray())).check(17)).isEqualTo(17);
    assertThatThrownBy(() -> CodeZip.read(ByteBuffer.wrap(bytes.toByteArray())).check(16))
        .isInstanceOf(CodeZip.TooLarge.class);
  }

  @Test
  void damagedPackagesAreRefused() throws Exception {
    var bytes = new ByteArrayOutputStream();
    try (var zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("x.txt"));
      zip.write("some text to compress, some text to compress".getBytes(StandardCharsets.UTF_8));
    }
    byte[] good = bytes.toByteArray();
    assertThat(read(good)).containsKey("x.txt");
    assertThatThrownBy(() -> CodeZip.read(ByteBuffer.wrap(new byte[100]))).isInstanceOf(CodeZip.InvalidZip.class);
    assertThatThrownBy(() -> CodeZip.read(ByteBuffer.wrap(java.util.Arrays.copyOf(good, good.length - 5))))
        .isInstanceOf(CodeZip.InvalidZip.class);
    byte[] corrupt = good.clone();
    corrupt[40] ^= 0x55; // inside the deflated data
    assertThatThrownBy(() -> CodeZip.read(ByteBuffer.wrap(corrupt)).check(Long.MAX_VALUE))
        .isInstanceOf(CodeZip.InvalidZip.class);
    byte[] wrongName = good.clone();
    wrongName[30] = 'z'; // the local header's name no longer matches the directory's
    assertThatThrownBy(() -> CodeZip.read(ByteBuffer.wrap(wrongName))).isInstanceOf(CodeZip.InvalidZip.class)
        .hasMessageContaining("does not match");
  }
}
