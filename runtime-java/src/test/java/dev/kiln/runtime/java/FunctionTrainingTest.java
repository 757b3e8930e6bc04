package dev.kiln.runtime.java;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Packing a function's code into the one jar its AOT cache is made from. */
class FunctionTrainingTest {
  @TempDir Path dir;

  @Test
  void packsInClassLoaderOrderAndMergesServiceFiles() throws Exception {
    Path task = Files.createDirectories(dir.resolve("task"));
    write(task.resolve("com/example/Handler.class"), "root class");
    write(task.resolve("config.properties"), "from the root");
    write(task.resolve("META-INF/MANIFEST.MF"), "Manifest-Version: 1.0\n");
    write(task.resolve("META-INF/services/com.example.Spi"), "com.example.FromRoot");
    zip(task.resolve("all.jar"), Map.of("config.properties", "from a top-level jar", "com/top/Top.class", "top"));
    Files.createDirectories(task.resolve("lib"));
    zip(task.resolve("lib/b.jar"), Map.of("com/lib/B.class", "b", "META-INF/services/com.example.Spi", "com.lib.B\n",
        "META-INF/B.SF", "signature"));
    zip(task.resolve("lib/a.jar"), Map.of("com/lib/B.class", "a's copy", "com/fasterxml/jackson/annotation/JsonProperty.class", "x"));
    Path runtimeJar = dir.resolve("runtime.jar");
    zip(runtimeJar, Map.of("tools/jackson/Mapper.class", "runtime", "com/fasterxml/jackson/annotation/JsonProperty.class", "y"));

    Path jar = dir.resolve("function-classes.jar");
    assertThat(FunctionTraining.pack(task, dir.resolve("no-layers"), List.of(runtimeJar.toString()), jar)).isNull();

    try (JarFile packed = new JarFile(jar.toFile())) {
      assertThat(read(packed, "com/example/Handler.class")).isEqualTo("root class");
      assertThat(read(packed, "config.properties")).isEqualTo("from the root");
      assertThat(read(packed, "com/top/Top.class")).isEqualTo("top");
      assertThat(read(packed, "com/lib/B.class")).isEqualTo("a's copy"); // lib/a.jar comes before lib/b.jar
      assertThat(read(packed, "META-INF/services/com.example.Spi")).isEqualTo("com.example.FromRoot\ncom.lib.B\n");
      assertThat(packed.getEntry("META-INF/B.SF")).isNull();
      assertThat(packed.getEntry("all.jar")).isNull();
      assertThat(packed.getEntry("lib/a.jar")).isNull();
      assertThat(packed.getEntry("com/example/")).isNotNull();
      assertThat(packed.getManifest().getMainAttributes().getValue("Manifest-Version")).isEqualTo("1.0");
    }
    long modified = Files.getLastModifiedTime(jar).toMillis();
    byte[] first = Files.readAllBytes(jar);
    assertThat(FunctionTraining.pack(task, dir.resolve("no-layers"), List.of(runtimeJar.toString()), jar)).isNull();
    assertThat(Files.readAllBytes(jar)).as("the same code packs into the same bytes").isEqualTo(first);
    assertThat(Files.getLastModifiedTime(jar).toMillis()).isEqualTo(modified);
  }

  @Test
  void findsAClassTheRuntimeAlsoHas() throws Exception {
    Path task = Files.createDirectories(dir.resolve("task"));
    write(task.resolve("com/example/Handler.class"), "root class");
    Files.createDirectories(task.resolve("lib"));
    zip(task.resolve("lib/jackson.jar"), Map.of("tools/jackson/Mapper.class", "function's"));
    Path runtimeJar = dir.resolve("runtime.jar");
    zip(runtimeJar, Map.of("tools/jackson/Mapper.class", "runtime"));
    Path jar = dir.resolve("function-classes.jar");
    assertThat(FunctionTraining.pack(task, dir.resolve("no-layers"), List.of(runtimeJar.toString()), jar))
        .isEqualTo("tools.jackson.Mapper");
    assertThat(jar).doesNotExist();
    try (var left = Files.list(dir)) {
      assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
    }
  }

  private static void write(Path file, String content) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
  }

  private static void zip(Path file, Map<String, String> entries) throws IOException {
    try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
      for (var e : new java.util.TreeMap<>(entries).entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    }
  }

  private static String read(JarFile jar, String name) throws IOException {
    try (var in = jar.getInputStream(jar.getEntry(name))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
