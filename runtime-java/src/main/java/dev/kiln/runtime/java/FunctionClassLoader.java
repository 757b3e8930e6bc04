package dev.kiln.runtime.java;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Loads the function's code: the task root as a classes directory, then every {@code *.jar} at its top (a fat
 * jar), then {@code lib/*.jar} (a zip package with dependencies), then {@code /opt/java/lib/*.jar} (layers).
 *
 * <p>Its parent is the platform class loader, so the function sees the JDK and its own classes only: the
 * runtime's Jackson and other internals stay out of its way. Two groups of classes are shared with the runtime,
 * looked up there first, so both sides use the same {@link Class} objects: the handler interfaces of
 * {@code aws-lambda-java-core} ({@code com.amazonaws.services.lambda.runtime.*}, of which the function usually
 * bundles its own copy) and the Jackson annotations (so the runtime's JSON mapping honours
 * {@code @JsonProperty} and friends on the function's classes). Classes of those packages that the runtime
 * does not have (for example {@code ...runtime.events.*} from aws-lambda-java-events) come from the function.
 */
final class FunctionClassLoader extends URLClassLoader {
  static {
    ClassLoader.registerAsParallelCapable();
  }

  private static final String[] SHARED_PREFIXES = {
    "com.amazonaws.services.lambda.runtime.", "com.fasterxml.jackson.annotation."
  };

  private final ClassLoader runtimeLoader;

  FunctionClassLoader(URL[] urls, ClassLoader runtimeLoader) {
    // unnamed: a named loader would prefix every stack frame of the function with "name//"
    super(urls, ClassLoader.getPlatformClassLoader());
    this.runtimeLoader = runtimeLoader;
  }

  static FunctionClassLoader forTaskRoot(String taskRoot, String optRoot, ClassLoader runtimeLoader) {
    List<URL> urls = new ArrayList<>();
    File root = new File(taskRoot);
    try {
      urls.add(root.getAbsoluteFile().toURI().toURL());
      addJars(root, urls);
      addJars(new File(root, "lib"), urls);
      addJars(new File(optRoot, "lib"), urls);
    } catch (MalformedURLException e) {
      throw new IllegalStateException(e);
    }
    return new FunctionClassLoader(urls.toArray(new URL[0]), runtimeLoader);
  }

  private static void addJars(File dir, List<URL> urls) throws MalformedURLException {
    String[] names = dir.list();
    if (names == null) {
      return;
    }
    Arrays.sort(names); // a stable order, whatever the file system lists first
    for (String name : names) {
      if (name.length() > 4 && name.endsWith(".jar")) {
        File jar = new File(dir, name);
        if (jar.isFile()) {
          urls.add(jar.getAbsoluteFile().toURI().toURL());
        }
      }
    }
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (isShared(name)) {
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          try {
            c = runtimeLoader.loadClass(name);
          } catch (ClassNotFoundException notInRuntime) {
            c = super.loadClass(name, false);
          }
        }
        if (resolve) {
          resolveClass(c);
        }
        return c;
      }
    }
    return super.loadClass(name, resolve);
  }

  @Override
  public URL getResource(String name) {
    if (isSharedResource(name)) {
      URL url = runtimeLoader.getResource(name);
      if (url != null) {
        return url;
      }
    }
    return super.getResource(name);
  }

  private static boolean isShared(String className) {
    for (String prefix : SHARED_PREFIXES) {
      if (className.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isSharedResource(String resource) {
    return resource.endsWith(".class") && isShared(resource.replace('/', '.'));
  }
}
