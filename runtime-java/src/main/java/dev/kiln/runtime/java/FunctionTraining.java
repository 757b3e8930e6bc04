package dev.kiln.runtime.java;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * The training run of a function's own JDK AOT cache, at publish time ({@code Bootstrap --train-function
 * <output dir> <run files dir>}, in a sandbox with the function's code and environment).
 *
 * <p>A JDK AOT cache only holds classes that the built-in class loaders took from jar files on the class path,
 * and checks those jars by path, size and modification time when it is used. So the training run
 * <ol>
 *   <li>packs the function's code (the task root's classes and resources, then its top-level jars, then
 *       {@code lib/*.jar}, then the layers' {@code /opt/java/lib/*.jar}: {@link FunctionClassLoader}'s order,
 *       first entry of a name wins) into one jar, {@value #FUNCTION_JAR} in the output directory;</li>
 *   <li>starts a second JVM with {@code -XX:AOTCacheOutput} that loads the handler from that jar through the
 *       application class loader and runs its initialization (no invocation: handlers have side effects),
 *       after the runtime's own training exchanges ({@link AotTraining});</li>
 * </ol>
 * and new environments run {@code -cp <runtime jars>:<run files dir>/function-classes.jar
 * -XX:AOTCache=<run files dir>/function.aot}. The second JVM must see the class path under the same names as
 * those environments will, but the jar is in the output directory now and in the run files directory then.
 * The JVM accepts a class path moved as a whole (the same entries under another common prefix), so the second
 * JVM gets the environments' class path under a temporary prefix, made of symbolic links to the real files.
 *
 * <p>A function that cannot have a cache (its initialization fails, or its code bundles classes the runtime
 * also has, which the application class loader would take from the runtime instead of from the function) makes
 * the run exit non-zero, with the reason as the last output line; the function then starts as usual.
 */
final class FunctionTraining {
  static final String TRAIN = "--train-function";
  static final String TRAIN_INIT = "--train-function-init";
  static final String FUNCTION_JAR = "function-classes.jar";
  static final String CACHE = "function.aot";
  /** Set (to the function jar's path) when the function's code is on the class path; see Bootstrap. */
  static final String FUNCTION_JAR_PROPERTY = "kiln.function.jar";

  /** Shared with the runtime by {@link FunctionClassLoader} as well: the runtime's copy wins there too. */
  private static final String[] SHARED_PREFIXES = {
    "com/amazonaws/services/lambda/runtime/", "com/fasterxml/jackson/annotation/"
  };
  /** A fixed time for the packed jar and its entries: the same code always packs into the same bytes. */
  private static final FileTime PACKED_TIME = FileTime.fromMillis(946_684_800_000L);

  private FunctionTraining() {}

  /** The outer run: packs the code, trains the cache in a second JVM, returns the exit code. */
  static int train(String outputDir, String runFilesDir) {
    FunctionEnvironment env = FunctionEnvironment.from(System.getenv());
    Path output = Path.of(outputDir);
    Path jar = output.resolve(FUNCTION_JAR);
    Path cache = output.resolve(CACHE);
    Path links = null;
    try {
      List<String> runtimeJars = List.of(System.getProperty("java.class.path").split(File.pathSeparator));
      String clash = pack(Path.of(env.taskRoot()), Path.of("/opt/java/lib"), runtimeJars, jar);
      if (clash != null) {
        return fail("the function bundles classes the runtime also has (" + clash + ")");
      }
      List<String> classPath = new ArrayList<>(runtimeJars);
      classPath.add(runFilesDir + "/" + FUNCTION_JAR);
      links = Files.createTempDirectory("kiln-aot-");
      StringBuilder linkedClassPath = new StringBuilder();
      for (String entry : classPath) {
        Path real = entry.equals(classPath.getLast()) ? jar.toAbsolutePath() : Path.of(entry);
        Path link = Path.of(links + entry);
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, real);
        linkedClassPath.append(linkedClassPath.isEmpty() ? "" : File.pathSeparator).append(link);
      }
      List<String> command = new ArrayList<>();
      command.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
      // this JVM's options as given (up to its class path), so that the cache is made with the same flags
      for (String option : ProcessHandle.current().info().arguments().orElse(new String[0])) {
        if (option.equals("-cp") || option.equals("-classpath") || option.equals("--class-path")) {
          break;
        }
        // this JVM's own cache and its silence do not belong to the one being made
        if (!option.startsWith("-XX:AOTCache") && !option.startsWith("-Xlog:aot") && !option.startsWith("-Xlog:cds")
            && !option.startsWith("-D" + FUNCTION_JAR_PROPERTY + "=")) {
          command.add(option);
        }
      }
      command.addAll(List.of("-XX:AOTCacheOutput=" + cache, "-Xlog:aot=warning", "-Xlog:cds=warning",
          "-D" + FUNCTION_JAR_PROPERTY + "=" + runFilesDir + "/" + FUNCTION_JAR,
          "-cp", linkedClassPath.toString(), Bootstrap.class.getName(), TRAIN_INIT));
      Process p = new ProcessBuilder(command).inheritIO().start();
      int exit = p.waitFor();
      if (exit != 0) {
        return fail(exit == INIT_FAILED ? "the function's initialization failed (see above)"
            : "the training JVM exited with " + exit);
      }
      if (!Files.isRegularFile(cache)) {
        return fail("the training JVM wrote no cache");
      }
      return 0;
    } catch (IOException | RuntimeException e) {
      return fail("training failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("training interrupted");
    } finally {
      if (links != null) {
        deleteTree(links);
      }
    }
  }

  private static final int INIT_FAILED = 3;

  /** The inner run (with {@code -XX:AOTCacheOutput}): the runtime's exchanges, then the function's init. */
  static int trainInit() throws Exception {
    AotTraining.run();
    FunctionEnvironment env = FunctionEnvironment.from(System.getenv());
    PrintStream stdout = System.out;
    try {
      Bootstrap.initFunction(env, env.handler(), new RuntimeLogger(stdout, env.logLevel()));
    } catch (InitError e) {
      stdout.print(e.getMessage() + (e.errorType.startsWith("Runtime.") ? "" : ": " + e.errorType) + "\n");
      stdout.flush();
      return INIT_FAILED;
    }
    System.out.flush();
    System.err.flush();
    return 0;
  }

  private static int fail(String reason) {
    System.out.flush();
    System.err.flush();
    System.out.print("kiln: no AOT cache for this function: " + reason + "\n");
    System.out.flush();
    return 1;
  }

  // ------------------------------------------------------------------------------------------ packing

  /**
   * Writes the function's code into {@code jar}, and returns a class it shares with the runtime (which the
   * application class loader would take from the runtime), or null when there is none (and the jar is written).
   */
  static String pack(Path taskRoot, Path optLib, List<String> runtimeJars, Path jar) throws IOException {
    Set<String> runtimeClasses = new HashSet<>();
    for (String runtimeJar : runtimeJars) {
      try (ZipFile zip = new ZipFile(runtimeJar)) {
        zip.stream().map(ZipEntry::getName).filter(FunctionTraining::isOwnClass).forEach(runtimeClasses::add);
      }
    }
    List<Path> codeJars = jars(taskRoot, taskRoot.resolve("lib"), optLib);
    boolean multiRelease = false;
    for (Path codeJar : codeJars) {
      try (JarFile zip = new JarFile(codeJar.toFile())) {
        multiRelease |= zip.isMultiRelease();
      }
    }
    Path temporary = Files.createTempFile(jar.toAbsolutePath().getParent(), ".function-", ".tmp");
    try {
      try (OutputStream file = Files.newOutputStream(temporary); ZipOutputStream zip = new ZipOutputStream(file)) {
        Packer packer = new Packer(zip, runtimeClasses);
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (multiRelease) {
          manifest.getMainAttributes().put(Attributes.Name.MULTI_RELEASE, "true");
        }
        ByteArrayOutputStream manifestBytes = new ByteArrayOutputStream();
        manifest.write(manifestBytes);
        packer.put(JarFile.MANIFEST_NAME, manifestBytes.toByteArray());
        try (Stream<Path> walk = Files.walk(taskRoot)) {
          for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
            String name = taskRoot.relativize(f).toString().replace(File.separatorChar, '/');
            boolean codeJar = name.endsWith(".jar") && (name.indexOf('/') < 0 || name.matches("lib/[^/]+"));
            if (!codeJar && packer.add(name, Files.readAllBytes(f))) {
              return packer.clash;
            }
          }
        }
        for (Path codeJar : codeJars) {
          try (ZipFile in = new ZipFile(codeJar.toFile())) {
            for (ZipEntry e : in.stream().toList()) {
              if (!e.isDirectory()) {
                try (InputStream entry = in.getInputStream(e)) {
                  if (packer.add(e.getName(), entry.readAllBytes())) {
                    return packer.clash;
                  }
                }
              }
            }
          }
        }
        packer.finish();
      }
      Files.setLastModifiedTime(temporary, PACKED_TIME);
      Files.move(temporary, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return null;
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  /** Writes entries as a class loader sees them: the first of a name wins; service files are concatenated. */
  private static final class Packer {
    private final ZipOutputStream zip;
    private final Set<String> runtimeClasses;
    private final Set<String> written = new HashSet<>();
    private final Map<String, ByteArrayOutputStream> services = new TreeMap<>();
    String clash;

    Packer(ZipOutputStream zip, Set<String> runtimeClasses) {
      this.zip = zip;
      this.runtimeClasses = runtimeClasses;
    }

    /** Adds one entry of the code; true when it is a class the runtime also has (nothing more is written). */
    boolean add(String name, byte[] content) throws IOException {
      if (name.equals(JarFile.MANIFEST_NAME) || isSignature(name)) {
        return false;
      }
      if (runtimeClasses.contains(name)) {
        clash = name.substring(0, name.length() - ".class".length()).replace('/', '.');
        return true;
      }
      if (name.startsWith("META-INF/services/") && name.indexOf('/', "META-INF/services/".length()) < 0) {
        ByteArrayOutputStream all = services.computeIfAbsent(name, n -> new ByteArrayOutputStream());
        all.writeBytes(content);
        if (content.length > 0 && content[content.length - 1] != '\n') {
          all.write('\n');
        }
        return false;
      }
      put(name, content);
      return false;
    }

    void finish() throws IOException {
      for (Map.Entry<String, ByteArrayOutputStream> e : services.entrySet()) {
        put(e.getKey(), e.getValue().toByteArray());
      }
    }

    void put(String name, byte[] content) throws IOException {
      // directory entries too, so that code scanning packages with getResources("com/example") finds them
      for (int slash = name.indexOf('/'); slash > 0; slash = name.indexOf('/', slash + 1)) {
        write(name.substring(0, slash + 1), null);
      }
      write(name, content);
    }

    private void write(String name, byte[] content) throws IOException {
      if (!written.add(name)) {
        return;
      }
      ZipEntry entry = new ZipEntry(name);
      entry.setLastModifiedTime(PACKED_TIME);
      zip.putNextEntry(entry);
      if (content != null) {
        zip.write(content);
      }
      zip.closeEntry();
    }
  }

  /** The jars directly in each directory, each directory's in name order. */
  private static List<Path> jars(Path... dirs) throws IOException {
    List<Path> jars = new ArrayList<>();
    for (Path dir : dirs) {
      if (!Files.isDirectory(dir)) {
        continue;
      }
      try (Stream<Path> list = Files.list(dir)) {
        list.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p))
            .sorted(Comparator.comparing(p -> p.getFileName().toString())).forEach(jars::add);
      }
    }
    return jars;
  }

  private static boolean isOwnClass(String name) {
    if (!name.endsWith(".class") || name.endsWith("module-info.class") || name.startsWith("META-INF/")) {
      return false;
    }
    for (String prefix : SHARED_PREFIXES) {
      if (name.startsWith(prefix)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isSignature(String name) {
    if (!name.startsWith("META-INF/") || name.indexOf('/', "META-INF/".length()) >= 0) {
      return false;
    }
    return name.endsWith(".SF") || name.endsWith(".RSA") || name.endsWith(".DSA") || name.endsWith(".EC");
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory of a sandbox that is about to go away
    }
  }
}
