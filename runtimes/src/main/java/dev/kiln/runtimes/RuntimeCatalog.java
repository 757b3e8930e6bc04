package dev.kiln.runtimes;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * java21, java25                &lt;java.home&gt;/bin/java -XX:Flags=/var/runtime/java/jvm.flags ...
 *                               [-XX:AOTCache=/var/runtime/java/kiln-runtime.aot -Xlog:aot=off -Xlog:cds=off]
 *                               -cp /var/runtime/java/... dev.kiln.runtime.java.Bootstrap
 * provided, provided.al2023     /var/task/bootstrap
 * </pre>
 *
 * Node.js and Python runtimes all run on the machine's one {@code node} and {@code python3}; both Java runtimes
 * on the JDK that runs Kiln. A runtime whose interpreter is missing on this machine is not {@link #supported()}.
 *
 * <p>On a first install the Java runtime's own JDK AOT cache ({@code java/kiln-runtime.aot}: the bootstrap,
 * Jackson and the JDK classes they use, loaded and linked ahead of time) is trained in the background; Java
 * commands include it once it is ready ({@link #awaitJavaAotCache}), and later installs into the same directory
 * reuse it while the jars and the JDK are unchanged. Set the system property {@value #AOT_PROPERTY} to
 * {@code false} to do without.
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
  /** The Java runtime's own JDK AOT cache, trained at install time (not a bundled file). */
  private static final String AOT_CACHE = "kiln-runtime.aot";
  private static final String AOT_STAMP = "kiln-runtime.aot.stamp";
  /** Set to {@code false} to skip training the Java runtime's AOT cache. */
  public static final String AOT_PROPERTY = "kiln.runtimes.java.aot";

  private static final Set<String> NODE_RUNTIMES = Set.of("nodejs20.x", "nodejs22.x");
  private static final Set<String> PYTHON_RUNTIMES = Set.of("python3.11", "python3.12", "python3.13");
  private static final Set<String> JAVA_RUNTIMES = Set.of("java21", "java25");
  private static final Set<String> PROVIDED_RUNTIMES = Set.of("provided", "provided.al2023");

  private final Path runtimeDir;
  private final String javaExecutable;
  private final String javaClassPath;
  private final CompletableFuture<Boolean> javaAotCache;
  private final Set<String> supported;

  private RuntimeCatalog(Path runtimeDir, String javaExecutable, String javaClassPath,
      CompletableFuture<Boolean> javaAotCache,
      Set<String> supported) {
    this.runtimeDir = runtimeDir;
    this.javaExecutable = javaExecutable;
    this.javaClassPath = javaClassPath;
    this.javaAotCache = javaAotCache;
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
    CompletableFuture<Boolean> aot = CompletableFuture.completedFuture(false);
    if (Files.isExecutable(javaExecutable) && jars.contains(RUNTIME_JAR)) {
      supported.addAll(JAVA_RUNTIMES);
      if (!"false".equalsIgnoreCase(System.getProperty(AOT_PROPERTY))) {
        aot = javaAotCache(dir, javaExecutable, jars, files);
      }
    }
    return new RuntimeCatalog(dir, javaExecutable.toString(), classPath.toString(), aot,
        Collections.unmodifiableSet(supported));
  }

  /**
   * The JVM options of the Java runtime, the same for the AOT training run and for functions: defaults in a
   * flags file rather than on the command line so that the function's JAVA_TOOL_OPTIONS overrides them (serial
   * GC, C1 only, no perf data file, heap sized to the memory limit), and no warnings about native access or
   * sun.misc.Unsafe from the function's libraries in its logs.
   */
  private static List<String> javaOptions(String runtimeDir) {
    return List.of("-XX:Flags=" + runtimeDir + "/java/jvm.flags", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow");
  }

  /**
   * The Java runtime's AOT cache: done at once when the one in place matches these files and this JDK, else
   * trained in the background (a second or two) so that installing does not hold up the server's start; Java
   * commands include the cache once it is ready.
   */
  private static CompletableFuture<Boolean> javaAotCache(Path dir, Path javaExecutable, List<String> jars,
      Map<String, byte[]> files) {
    Path javaDir = dir.resolve("java");
    String stamp = aotStamp(javaExecutable, jars, files);
    try {
      if (Files.isRegularFile(javaDir.resolve(AOT_CACHE)) && Files.isRegularFile(javaDir.resolve(AOT_STAMP))
          && Files.readString(javaDir.resolve(AOT_STAMP)).equals(stamp)) {
        return CompletableFuture.completedFuture(true);
      }
    } catch (IOException e) {
      // train again
    }
    CompletableFuture<Boolean> done = new CompletableFuture<>();
    Thread.ofPlatform().daemon().name("kiln-java-aot-training").start(
        () -> done.complete(trainJavaAotCache(dir, javaExecutable, jars, stamp)));
    return done;
  }

  /**
   * Trains a JDK AOT cache of the Java runtime's own classes (the bootstrap, Jackson, the JDK classes they use)
   * with {@code Bootstrap --aot-training}, unless the one already there was made from the same files and JDK.
   * The cache is valid in sandboxes too: the JVM accepts the same jars under another directory
   * ({@code /var/runtime/java}) as long as sizes and modification times match, which a read-only bind mount
   * keeps. Returns whether a cache is in place; a failure only costs start-up time, so it is not an error.
   */
  private static boolean trainJavaAotCache(Path dir, Path javaExecutable, List<String> jars, String stamp) {
    Path javaDir = dir.resolve("java");
    Path cache = javaDir.resolve(AOT_CACHE);
    Path stampFile = javaDir.resolve(AOT_STAMP);
    try {
      Path output = javaDir.resolve(AOT_CACHE + "." + ProcessHandle.current().pid() + ".tmp");
      List<String> command = new ArrayList<>();
      command.add(javaExecutable.toString());
      command.addAll(javaOptions(dir.toString()));
      command.add("-XX:AOTCacheOutput=" + output);
      command.add("-cp");
      StringBuilder classPath = new StringBuilder();
      for (String jar : jars) {
        classPath.append(classPath.isEmpty() ? "" : ":").append(javaDir.resolve(jar));
      }
      command.add(classPath.toString());
      command.add(JAVA_MAIN_CLASS);
      command.add("--aot-training");
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      boolean done = p.waitFor(120, TimeUnit.SECONDS);
      if (!done) {
        p.destroyForcibly();
      }
      if (done && p.exitValue() == 0 && Files.isRegularFile(output)) {
        setMode(output, "rw-r--r--");
        Files.move(output, cache, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(stampFile, stamp);
        setMode(stampFile, "rw-r--r--");
        return true;
      }
      Files.deleteIfExists(output);
      Files.deleteIfExists(Path.of(output + ".config"));
      return false;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String aotStamp(Path javaExecutable, List<String> jars, Map<String, byte[]> files) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(javaExecutable.toRealPath().toString().getBytes(StandardCharsets.UTF_8));
      Path release = javaExecutable.getParent().getParent().resolve("release");
      if (Files.isRegularFile(release)) {
        digest.update(Files.readAllBytes(release));
      }
      for (String jar : jars) {
        digest.update(jar.getBytes(StandardCharsets.UTF_8));
        digest.update(files.get("java/" + jar));
      }
      digest.update(files.getOrDefault("java/jvm.flags", new byte[0]));
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException | NoSuchAlgorithmException e) {
      return "unknown";
    }
  }

  /** The host directory the runtimes were installed into (mounted at {@code /var/runtime}). */
  public Path runtimeDir() {
    return runtimeDir;
  }

  /**
   * Waits for the Java runtime's AOT cache (trained in the background on a first install) and tells whether
   * Java commands now use it. Optional: commands made before it is ready simply start without it.
   */
  public boolean awaitJavaAotCache(Duration timeout) {
    try {
      return javaAotCache.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException e) {
      return false;
    }
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
        List<String> args = new ArrayList<>();
        args.add(javaExecutable);
        args.addAll(javaOptions(SANDBOX_RUNTIME_DIR));
        if (javaAotCache.getNow(false)) {
          // silent if the cache cannot be used after all: the JVM then starts without it, and its messages
          // would land in the function's logs
          args.addAll(List.of("-XX:AOTCache=" + SANDBOX_RUNTIME_DIR + "/java/" + AOT_CACHE, "-Xlog:aot=off",
              "-Xlog:cds=off"));
        }
        args.addAll(List.of("-cp", javaClassPath, JAVA_MAIN_CLASS));
        command = List.copyOf(args);
      }
    }
    if (handler != null) {
      env.put("_HANDLER", handler);
    }
    return Optional.of(new RuntimeCommand(command, env, !PROVIDED_RUNTIMES.contains(runtimeId)));
  }

  /**
   * How a function of {@code runtimeId} can be snapshotted at publish time, or empty when the runtime has no
   * file-based snapshot (Python uses a fork server instead; custom runtimes have none).
   */
  public Optional<SnapshotRecipe> snapshotRecipe(String runtimeId) {
    if (runtimeId == null || !supported.contains(runtimeId)) {
      return Optional.empty();
    }
    if (NODE_RUNTIMES.contains(runtimeId)) {
      return Optional.of(NodeSnapshotRecipe.recipe());
    }
    if (JAVA_RUNTIMES.contains(runtimeId)) {
      return command(runtimeId, null).map(JavaAotRecipe::of);
    }
    return Optional.empty();
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
          String name = p.getFileName().toString();
          boolean generated = name.equals(AOT_CACHE) || name.equals(AOT_STAMP);
          if (Files.isRegularFile(p) && !generated && !files.containsKey(sub + "/" + name)) {
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
