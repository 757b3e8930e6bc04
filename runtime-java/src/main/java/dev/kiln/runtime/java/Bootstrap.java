package dev.kiln.runtime.java;

import com.amazonaws.services.lambda.runtime.LambdaLogger;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Field;

/**
 * Entry point of the Java runtime inside a sandbox:
 * {@code java -cp /var/runtime/java/... dev.kiln.runtime.java.Bootstrap [handler]}.
 *
 * <p>Loads the handler named by {@code _HANDLER} (or the first argument) from {@code LAMBDA_TASK_ROOT}, reports
 * a failure to {@code /runtime/init/error} and exits, or else serves invocations from the Runtime API at
 * {@code AWS_LAMBDA_RUNTIME_API} one at a time on the main thread, for as long as the process lives.
 */
public final class Bootstrap {
  private static final byte[] OUTPUT_MARK = System.getenv("_KILN_OUTPUT_MARK") == null ? null
      : (System.getenv("_KILN_OUTPUT_MARK") + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
  private static final java.io.FileOutputStream STDOUT = new java.io.FileOutputStream(java.io.FileDescriptor.out);

  private static final String TRACE_PROPERTY = "com.amazonaws.xray.traceHeader";

  private Bootstrap() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--aot-training")) {
      AotTraining.run();
      return;
    }
    if (args.length == 3 && args[0].equals(FunctionTraining.TRAIN)) {
      System.exit(FunctionTraining.train(args[1], args[2]));
      return;
    }
    if (args.length == 1 && args[0].equals(FunctionTraining.TRAIN_INIT)) {
      System.exit(FunctionTraining.trainInit());
      return;
    }
    FunctionEnvironment env = FunctionEnvironment.from(System.getenv());
    RuntimeApiClient api = new RuntimeApiClient(env.runtimeApi());
    String handlerName = env.handler() != null && !env.handler().isBlank() ? env.handler()
        : args.length > 0 ? args[0] : null;
    PrintStream stdout = System.out;
    RuntimeLogger logger = new RuntimeLogger(stdout, env.logLevel());

    FunctionHandler handler;
    try {
      handler = initFunction(env, handlerName, logger);
    } catch (InitError e) {
      stdout.print(e.getMessage() + (e.errorType.startsWith("Runtime.") ? "" : ": " + e.errorType) + "\n");
      stdout.flush();
      try {
        api.postInitError(e.headerType, ErrorReport.json(e.getMessage(), e.errorType, e.stackTrace));
      } catch (IOException io) {
        fatal("could not report the init error", io);
      }
      System.exit(1);
      return;
    }
    serve(api, handler, env, logger);
  }

  /** Loads the handler and runs its initialization, as a cold start and a snapshot training run both do. */
  static FunctionHandler initFunction(FunctionEnvironment env, String handlerName, LambdaLogger logger)
      throws InitError {
    ClassLoader functionLoader = functionLoader(env.taskRoot());
    Thread.currentThread().setContextClassLoader(functionLoader);
    installStaticLogger(logger);
    return HandlerLoader.load(handlerName, functionLoader, new Serialization(functionLoader));
  }

  private static void serve(RuntimeApiClient api, FunctionHandler handler, FunctionEnvironment env,
      LambdaLogger logger) {
    ResponseBuffer out = new ResponseBuffer();
    for (; ; ) {
      Invocation invocation;
      try {
        invocation = api.next();
      } catch (IOException | RuntimeException e) {
        fatal("could not get the next invocation", e);
        return;
      }
      if (invocation.traceId() != null) {
        System.setProperty(TRACE_PROPERTY, invocation.traceId());
      } else {
        System.clearProperty(TRACE_PROPERTY);
      }
      InvocationContext context = new InvocationContext(invocation, env, logger);
      out.recycle();
      Throwable failure = null;
      try {
        handler.handle(invocation.event(), context, out);
      } catch (Throwable t) {
        failure = t;
      }
      Thread.interrupted(); // an interrupt the handler left behind must not break the next request
      System.out.flush();
      System.err.flush();
      try {
        if (failure == null) {
          markEndOfOutput();
          api.postResponse(invocation.requestId(), out.array(), out.size());
        } else {
          String message = ErrorReport.messageOf(failure);
          String type = failure.getClass().getName();
          byte[] body = ErrorReport.json(message, type, ErrorReport.stackOf(failure));
          System.out.print(ErrorReport.logLine(message, type, failure));
          System.out.flush();
          markEndOfOutput();
          api.postError(invocation.requestId(), "Runtime.UserException", body);
          if (failure instanceof VirtualMachineError) {
            System.exit(1); // the JVM is in no state to go on (out of memory, stack overflow in native code...)
          }
        }
      } catch (IOException | RuntimeException e) {
        fatal("could not report the result of " + invocation.requestId(), e);
      }
    }
  }

  /**
   * Kiln waits for this line before closing an invocation's log: every line the function printed
   * before it is then in that log, however late the platform got to read the pipe. Written to the
   * file descriptor itself, since the handler may have replaced System.out.
   */
  private static void markEndOfOutput() {
    if (OUTPUT_MARK == null) {
      return;
    }
    System.out.flush();
    System.err.flush();
    try {
      STDOUT.write(OUTPUT_MARK);
    } catch (IOException e) {
      // Kiln then waits a little for the log and goes on.
    }
  }

  /**
   * The function's class loader: normally a {@link FunctionClassLoader} over the task root. When the command put
   * the function's code on the JVM class path itself (an entry at or under the task root, or the jar of the
   * function's code that {@link FunctionTraining} packs, named by {@value FunctionTraining#FUNCTION_JAR_PROPERTY}),
   * the application class loader serves it instead, which is what lets a per-function JDK AOT cache include the
   * function's classes (the cache only holds classes of the built-in class loaders).
   */
  static ClassLoader functionLoader(String taskRoot) {
    if (System.getProperty(FunctionTraining.FUNCTION_JAR_PROPERTY) != null) {
      return ClassLoader.getSystemClassLoader();
    }
    String root = taskRoot.endsWith("/") ? taskRoot.substring(0, taskRoot.length() - 1) : taskRoot;
    for (String entry : System.getProperty("java.class.path", "").split(java.io.File.pathSeparator)) {
      if (entry.equals(root) || entry.startsWith(root + "/")) {
        return ClassLoader.getSystemClassLoader();
      }
    }
    return FunctionClassLoader.forTaskRoot(taskRoot, "/opt/java", Bootstrap.class.getClassLoader());
  }

  /** Points {@code LambdaRuntime.getLogger()} at this runtime's logger, as Lambda's runtime does. */
  private static void installStaticLogger(LambdaLogger logger) {
    try {
      Field field = Class.forName("com.amazonaws.services.lambda.runtime.LambdaRuntime").getDeclaredField("logger");
      field.setAccessible(true);
      field.set(null, logger);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError ignored) {
      // an aws-lambda-java-core without that field: its default logger writes to stdout as well
    }
  }

  private static void fatal(String what, Throwable t) {
    System.err.print("kiln runtime: " + what + ": " + t + "\n");
    System.err.flush();
    System.exit(2);
  }
}
