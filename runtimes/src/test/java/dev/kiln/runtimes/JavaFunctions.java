package dev.kiln.runtimes;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/** Builds Java function code directories from the compiled test functions in {@code dev.kiln.runtimes.fn}. */
final class JavaFunctions {
  static final String FN_PACKAGE = "dev/kiln/runtimes/fn";

  private JavaFunctions() {}

  /** The jar on the test class path that holds {@code resource} (a class file path). */
  static Path jarOf(String resource) {
    URL url = ClassLoader.getSystemResource(resource);
    if (url == null || !"jar".equals(url.getProtocol())) {
      throw new IllegalStateException(resource + " is not in a jar on the test class path: " + url);
    }
    String spec = url.getFile(); // file:/...jar!/resource
    try {
      return Path.of(new URI(spec.substring(0, spec.indexOf("!/"))));
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Path coreJar() {
    return jarOf("com/amazonaws/services/lambda/runtime/RequestHandler.class");
  }

  static Path eventsJar() {
    return jarOf("com/amazonaws/services/lambda/runtime/events/SQSEvent.class");
  }

  static Path jodaJar() {
    return jarOf("org/joda/time/DateTime.class");
  }

  /** The libraries a function using aws-lambda-java-events bundles. */
  static List<Path> libraries() {
    return List.of(coreJar(), eventsJar(), jodaJar());
  }

  private static Path classesDir() {
    URL url = ClassLoader.getSystemResource(FN_PACKAGE + "/HelloPojo.class");
    try {
      return Path.of(url.toURI()).getParent().getParent().getParent().getParent().getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A zip package unpacked: the function's classes at the top, its libraries in {@code lib/}. */
  static void classesWithLib(Path task) throws IOException {
    Path classes = classesDir();
    Path from = classes.resolve(FN_PACKAGE);
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Path to = task.resolve(classes.relativize(f).toString());
        Files.createDirectories(to.getParent());
        Files.copy(f, to);
      }
    }
    Path lib = Files.createDirectories(task.resolve("lib"));
    for (Path jar : libraries()) {
      Files.copy(jar, lib.resolve(jar.getFileName()));
    }
  }

  /** A fat (uber) jar at the top of the task root: the function's classes plus its libraries' classes. */
  static Path fatJar(Path task) throws IOException {
    Path jar = task.resolve("function-1.0-all.jar");
    Set<String> seen = new HashSet<>();
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(jar))) {
      Path classes = classesDir();
      try (Stream<Path> files = Files.walk(classes.resolve(FN_PACKAGE))) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          String name = classes.relativize(f).toString().replace('\\', '/');
          seen.add(name);
          zip.putNextEntry(new ZipEntry(name));
          Files.copy(f, zip);
          zip.closeEntry();
        }
      }
      for (Path lib : libraries()) {
        try (InputStream in = Files.newInputStream(lib); ZipInputStream z = new ZipInputStream(in)) {
          for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
            if (e.isDirectory() || e.getName().startsWith("META-INF/") || !seen.add(e.getName())) {
              continue;
            }
            zip.putNextEntry(new ZipEntry(e.getName()));
            z.transferTo(zip);
            zip.closeEntry();
          }
        }
      }
    }
    return jar;
  }
}
