package dev.kiln.runtimes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The language runtimes Kiln runs functions with, and the files behind them.
 *
 * <p>{@link #install(Path)} copies the bootstraps shipped in this module ({@code node/bootstrap.js},
 * {@code python/bootstrap.py}, {@code java/*.jar} and {@code java/jvm.flags}) into a host directory that the
 * sandboxes see read-only at {@code /var/runtime}; {@link #command(String, String)} then gives the command line
 * of a runtime, in sandbox paths:
 *
 * <pre>
 * nodejs20.x, nodejs22.x        /usr/bin/node /var/runtime/node/bootstrap.js
 * python3.11, 3.12, 3.13        /usr/bin/python3 -S -B -u /var/runtime/python/bootstrap.py
 * java21, java25                &lt;java.home&gt;/bin/java -XX:Flags=/var/runtime/java/jvm.flags ... -cp /var/runtime/java/... dev.kiln.runtime.java.Bootstrap
 * provided, provided.al2023     /var/task/bootstrap
 * </pre>
 *
 * Node.js and Python runtimes all run on the machine's one {@code node} and {@code python3}; both Java runtimes
 * on the JDK that runs Kiln. A runtime whose interpreter is missing on this machine is not {@link #supported()}.
 */
public final class RuntimeCatalog {
  /** Where the runtime directory appears inside a sandbox. */
  public static final String SANDBOX_RUNTIME_DIR = "/var/runtime";
  /** Where the function's code appears inside a sandbox. */
  public static final String SANDBOX_TASK_ROOT = "/var/task";

  public static final String NODE = "/usr/bin/node";
  public static final String PYTHON = "/usr/bin/python3";
  public static final String JAVA_MAIN_CLASS = "dev.kiln.runtime.java.Bootstrap";

  private static final String RESOURCE_ROOT = "dev/kiln/runtimes";
  private static final List<String> BOOTSTRAP_DIRS = List.of("node", "python", "java");
  private static final String RUNTIME_JAR = "kiln-runtime-java.jar";

  private static final Set<String> NODE_RUNTIMES = Set.of("nodejs20.x", "nodejs22.x");
  private static final Set<String> PYTHON_RUNTIMES = Set.of("python3.11", "python3.12", "python3.13");
  private static final Set<String> JAVA_RUNTIMES = Set.of("java21", "java25");
  private static final Set<String> PROVIDED_RUNTIMES = Set.of("provided", "provided.al2023");

  private final Path runtimeDir;
  private final String java;
  private final String javaClassPath;
  private final Set<String> supported;

  private RuntimeCatalog(Path runtimeDir, String java, String javaClassPath, Set<String> supported) {
    this.runtimeDir = runtimeDir;
    this.java = java;
    this.javaClassPath = javaClassPath;
    this.supported = supported;
  }

  /**
   * Copies every bootstrap file into {@code runtimeDir} (skipping files already identical, replacing others
   * atomically, removing stale files of earlier versions) and returns the catalog. Java runtimes use the JDK
   * running this code ({@code java.home}), which must be visible in sandboxes (it is under {@code /usr} here).
   */
  public static RuntimeCatalog install(Path runtimeDir) {
    return install(runtimeDir, Path.of(System.getProperty("java.home")));
  }

  /** As {@link #install(Path)}, with the JDK the Java runtimes run on. */
  public static RuntimeCatalog install(Path runtimeDir, Path javaHome) {
    Path dir = runtimeDir.toAbsolutePath().normalize();
    Map<String, byte[]> files = bundledFiles();
    try {
      write(dir, files);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot install the runtimes into " + dir, e);
    }
    List<String> jars = new ArrayList<>();
    for (String name : files.keySet()) {
      if (name.startsWith("java/") && name.endsWith(".jar")) {
        jars.add(name.substring("java/".length()));
      }
    }
    jars.sort((a, b) -> a.equals(RUNTIME_JAR) ? -1 : b.equals(RUNTIME_JAR) ? 1 : a.compareTo(b));
    StringBuilder classPath = new StringBuilder();
    for (String jar : jars) {
      classPath.append(classPath.isEmpty() ? "" : ":").append(SANDBOX_RUNTIME_DIR).append("/java/").append(jar);
    }
    Path javaExecutable = javaHome.resolve("bin").resolve("java");

    Set<String> supported = new TreeSet<>(PROVIDED_RUNTIMES);
    if (Files.isExecutable(Path.of(NODE)) && files.containsKey("node/bootstrap.js")) {
      supported.addAll(NODE_RUNTIMES);
    }
    if (Files.isExecutable(Path.of(PYTHON)) && files.containsKey("python/bootstrap.py")) {
      supported.addAll(PYTHON_RUNTIMES);
    }
    if (Files.isExecutable(javaExecutable) && jars.contains(RUNTIME_JAR)) {
      supported.addAll(JAVA_RUNTIMES);
    }
    return new RuntimeCatalog(dir, javaExecutable.toString(), classPath.toString(),
        Collections.unmodifiableSet(supported));
  }

  /** The host directory the runtimes were installed into (mounted at {@code /var/runtime}). */
  public Path runtimeDir() {
    return runtimeDir;
  }

  /** The runtime identifiers (Lambda's {@code Runtime} values) this machine can run. */
  public Set<String> supported() {
    return supported;
  }

  /**
   * The command that starts {@code runtimeId} inside a sandbox, or empty for an unknown or unsupported runtime.
   * The handler travels in {@code _HANDLER} (also set in the extra environment); the command itself does not
   * depend on it, so pre-started runtimes can serve any function of their runtime.
   */
  public Optional<RuntimeCommand> command(String runtimeId, String handler) {
    if (runtimeId == null || !supported.contains(runtimeId)) {
      return Optional.empty();
    }
    Map<String, String> env = new LinkedHashMap<>();
    List<String> command;
    if (PROVIDED_RUNTIMES.contains(runtimeId)) {
      command = List.of(SANDBOX_TASK_ROOT + "/bootstrap");
    } else {
      env.put("AWS_EXECUTION_ENV", "AWS_Lambda_" + runtimeId);
      env.put("LAMBDA_RUNTIME_DIR", SANDBOX_RUNTIME_DIR);
      env.put("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
      env.put("LD_LIBRARY_PATH", "/lib64:/usr/lib64:" + SANDBOX_RUNTIME_DIR + ":" + SANDBOX_RUNTIME_DIR + "/lib:"
          + SANDBOX_TASK_ROOT + ":" + SANDBOX_TASK_ROOT + "/lib:/opt/lib");
      env.put("LANG", "C.UTF-8");
      if (NODE_RUNTIMES.contains(runtimeId)) {
        String major = runtimeId.substring("nodejs".length(), runtimeId.indexOf('.'));
        env.put("NODE_PATH", "/opt/nodejs/node" + major + "/node_modules:/opt/nodejs/node_modules:"
            + SANDBOX_RUNTIME_DIR + "/node_modules:" + SANDBOX_RUNTIME_DIR + ":" + SANDBOX_TASK_ROOT);
        command = List.of(NODE, SANDBOX_RUNTIME_DIR + "/node/bootstrap.js");
      } else if (PYTHON_RUNTIMES.contains(runtimeId)) {
        // -S: no site import (the bootstrap sets sys.path itself, faster); -B: never write .pyc files into
        // the function's code; -u: unbuffered output, so logs reach the platform as they are written.
        command = List.of(PYTHON, "-S", "-B", "-u", SANDBOX_RUNTIME_DIR + "/python/bootstrap.py");
      } else {
        // JVM defaults in a flags file rather than on the command line, so that JAVA_TOOL_OPTIONS of the
        // function overrides them (serial GC, C1 only, no perf data file, heap sized to the memory limit).
        command = List.of(java, "-XX:Flags=" + SANDBOX_RUNTIME_DIR + "/java/jvm.flags",
            "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-cp", javaClassPath, JAVA_MAIN_CLASS);
      }
    }
    if (handler != null) {
      env.put("_HANDLER", handler);
    }
    return Optional.of(new RuntimeCommand(command, env));
  }

  // ------------------------------------------------------------------------------------ installation

  /** Every bootstrap file on the class path, by path relative to the runtime directory. */
  static Map<String, byte[]> bundledFiles() {
    URL marker = RuntimeCatalog.class.getResource("/" + RESOURCE_ROOT + "/python/bootstrap.py");
    if (marker == null) {
      throw new IllegalStateException("the runtime bootstraps are missing from the class path");
    }
    try {
      URI uri = marker.toURI();
      if ("file".equals(uri.getScheme())) {
        return readTree(Path.of(uri).getParent().getParent());
      }
      if ("jar".equals(uri.getScheme())) {
        String spec = uri.getRawSchemeSpecificPart();
        Path jar = Path.of(URI.create(spec.substring(0, spec.indexOf("!/"))));
        try (FileSystem fs = FileSystems.newFileSystem(jar)) {
          return readTree(fs.getPath("/" + RESOURCE_ROOT));
        }
      }
      throw new IllegalStateException("cannot list the runtime bootstraps at " + uri);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Map<String, byte[]> readTree(Path root) throws IOException {
    Map<String, byte[]> files = new TreeMap<>();
    for (String dir : BOOTSTRAP_DIRS) {
      Path base = root.resolve(dir);
      if (!Files.isDirectory(base)) {
        continue;
      }
      try (Stream<Path> walk = Files.walk(base)) {
        for (Path p : walk.filter(Files::isRegularFile).toList()) {
          String relative = root.relativize(p).toString().replace('\\', '/');
          files.put(relative, Files.readAllBytes(p));
        }
      }
    }
    return files;
  }

  private static void write(Path dir, Map<String, byte[]> files) throws IOException {
    createDirectory(dir);
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      Path target = dir.resolve(e.getKey());
      createDirectory(target.getParent());
      if (Files.isRegularFile(target) && Files.size(target) == e.getValue().length
          && Arrays.equals(Files.readAllBytes(target), e.getValue())) {
        continue;
      }
      Path temporary = Files.createTempFile(target.getParent(), ".install-", ".tmp");
      try {
        Files.write(temporary, e.getValue());
        setMode(temporary, "rw-r--r--");
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(temporary);
      }
    }
    // files of an earlier Kiln version that this one no longer ships
    for (String sub : BOOTSTRAP_DIRS) {
      Path subDir = dir.resolve(sub);
      if (!Files.isDirectory(subDir)) {
        continue;
      }
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(subDir)) {
        for (Path p : entries) {
          if (Files.isRegularFile(p) && !files.containsKey(sub + "/" + p.getFileName())) {
            Files.deleteIfExists(p);
          }
        }
      }
    }
  }

  private static void createDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
    }
    setMode(dir, "rwxr-xr-x");
  }

  private static void setMode(Path path, String mode) throws IOException {
    try {
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
    } catch (UnsupportedOperationException notPosix) {
      // readable enough wherever POSIX permissions do not exist
    }
  }

  @Override
  public String toString() {
    return "RuntimeCatalog[" + runtimeDir + ", supported=" + supported + "]";
  }

  /** The installed files, relative to the runtime directory (for diagnostics and tests). */
  static Set<String> bundledFileNames() {
    return new TreeSet<>(bundledFiles().keySet());
  }
}
