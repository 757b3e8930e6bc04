package dev.kiln.e2e.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Java functions compiled in the test, as a user builds them: javac against the real {@code
 * aws-lambda-java-core} (from the test class path), then packaged as Lambda takes them.
 */
public final class JavaFunctions {
  private JavaFunctions() {}

  /** The jar (or class directory) a class was loaded from. */
  public static Path jarOf(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code aws-lambda-java-core}, the jar every handler compiles against. */
  public static Path coreJar() {
    return jarOf(com.amazonaws.services.lambda.runtime.Context.class);
  }

  /**
   * Compiles the sources (file name like {@code echo/Handler.java} to source text) for the given
   * Java release and returns the class files by path ({@code echo/Handler.class}).
   */
  public static Map<String, byte[]> compile(Map<String, String> sources, int release) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    if (javac == null) {
      throw new IllegalStateException("no system Java compiler: run the tests on a JDK");
    }
    Path work = null;
    try {
      work = Files.createTempDirectory("kiln-e2e-javac-");
      Path src = Files.createDirectories(work.resolve("src"));
      Path out = Files.createDirectories(work.resolve("classes"));
      List<Path> files = new ArrayList<>();
      for (var e : sources.entrySet()) {
        Path file = src.resolve(e.getKey());
        Files.createDirectories(file.getParent());
        Files.writeString(file, e.getValue());
        files.add(file);
      }
      DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
      try (StandardJavaFileManager fm = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
        List<String> options =
            List.of(
                "--release", Integer.toString(release),
                "-classpath", coreJar().toString(),
                "-d", out.toString(),
                "-proc:none",
                "-Xlint:none");
        boolean ok =
            javac.getTask(null, fm, diagnostics, options, null, fm.getJavaFileObjectsFromPaths(files)).call();
        if (!ok) {
          throw new IllegalStateException("javac failed: " + diagnostics.getDiagnostics());
        }
      }
      Map<String, byte[]> classes = new TreeMap<>();
      try (Stream<Path> walk = Files.walk(out)) {
        for (Path p : walk.filter(Files::isRegularFile).toList()) {
          classes.put(out.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
        }
      }
      return classes;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteQuietly(work);
    }
  }

  /** A jar of the given entries (class files), with a plain manifest. */
  public static byte[] jar(Map<String, byte[]> entries) {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (JarOutputStream jar = new JarOutputStream(bytes, manifest)) {
      for (var e : entries.entrySet()) {
        jar.putNextEntry(new JarEntry(e.getKey()));
        jar.write(e.getValue());
        jar.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * A fat jar as the Maven shade plugin builds it: the handler's classes and the classes of {@code
   * aws-lambda-java-core}, side by side.
   */
  public static byte[] fatJar(Map<String, byte[]> classes) {
    Map<String, byte[]> entries = new TreeMap<>(classes);
    try (var core = new java.util.zip.ZipFile(coreJar().toFile())) {
      for (var it = core.entries().asIterator(); it.hasNext(); ) {
        var entry = it.next();
        if (!entry.isDirectory() && entry.getName().endsWith(".class")) {
          entries.put(entry.getName(), core.getInputStream(entry).readAllBytes());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return jar(entries);
  }

  /** Lambda's other Java layout: classes at the root of the zip, dependencies as jars in lib/. */
  public static byte[] zipWithLib(Map<String, byte[]> classes) {
    return FunctionZip.create().files(classes).copy("lib/aws-lambda-java-core-1.4.0.jar", coreJar()).bytes();
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory; nothing depends on it
    }
  }
}
