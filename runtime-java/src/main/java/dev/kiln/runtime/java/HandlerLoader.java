package dev.kiln.runtime.java;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves a handler string into a {@link FunctionHandler}.
 *
 * <p>Handler forms (as on Lambda): {@code com.example.Handler} implementing {@link RequestStreamHandler} or
 * {@link RequestHandler}, and {@code com.example.Handler::method} naming a public method with one of the
 * signatures {@code (InputStream, OutputStream, Context)}, {@code (InputStream, OutputStream)},
 * {@code (InputStream, Context)}, {@code (OutputStream, Context)}, {@code (InputStream)}, {@code (OutputStream)},
 * {@code (Context)}, {@code (Pojo, Context)}, {@code (Pojo)} or {@code ()}; overloads with more parameters win,
 * then those ending in a Context.
 *
 * <p>Failures are {@link InitError}s with the error types and messages Lambda's Java runtime uses:
 * {@code java.lang.ClassNotFoundException} "Class not found: X", the exception's own class for errors thrown by
 * static initializers and constructors, and {@code Runtime.HandlerNotFound} / {@code Runtime.MalformedHandlerName}
 * where Lambda's body carries no type.
 */
final class HandlerLoader {
  private HandlerLoader() {}

  static FunctionHandler load(String handler, ClassLoader loader, Serialization serialization) throws InitError {
    if (handler == null || handler.isBlank()) {
      throw new InitError("Runtime.MalformedHandlerName", "Invalid handler: `" + handler + "'", null);
    }
    int colons = handler.lastIndexOf("::");
    String className = colons < 0 ? handler.trim() : handler.substring(0, colons).trim();
    String methodName = colons < 0 ? null : handler.substring(colons + 2).trim();
    if (className.isEmpty() || (methodName != null && methodName.isEmpty())) {
      throw new InitError("Runtime.MalformedHandlerName", "Invalid handler: `" + handler + "'", null);
    }
    Class<?> cls;
    try {
      cls = Class.forName(className, true, loader);
    } catch (ClassNotFoundException e) {
      // no stack trace, as on Lambda: its frames would all be the class loader's
      throw new InitError(e.getClass().getName(), "Class not found: " + className, null);
    } catch (ExceptionInInitializerError e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new InitError(e.getClass().getName(), "Error loading class " + className + ": "
          + cause.getClass().getName() + ": " + ErrorReport.messageOf(cause), ErrorReport.stackOf(cause));
    } catch (Throwable e) {
      throw new InitError(e.getClass().getName(), "Error loading class " + className
          + (e.getMessage() == null ? "" : ": " + e.getMessage()), ErrorReport.stackOf(e));
    }
    return methodName == null ? loadClassHandler(cls, serialization) : loadMethodHandler(cls, methodName, serialization);
  }

  // ------------------------------------------------------------------------------- handler classes

  private static FunctionHandler loadClassHandler(Class<?> cls, Serialization serialization) throws InitError {
    if (RequestStreamHandler.class.isAssignableFrom(cls)) {
      return new StreamHandler((RequestStreamHandler) instantiate(cls));
    }
    if (RequestHandler.class.isAssignableFrom(cls)) {
      Type[] types = typeArguments(cls, RequestHandler.class);
      Type input = types == null ? Object.class : types[0];
      Type output = types == null ? Object.class : types[1];
      @SuppressWarnings("unchecked")
      RequestHandler<Object, Object> h = (RequestHandler<Object, Object>) instantiate(cls);
      Serialization.Reader reader = serialization.readerFor(input);
      Serialization.Writer writer = isVoid(output) ? null : serialization.writerFor(output);
      return new PojoHandler(h, reader, writer);
    }
    throw new InitError("Runtime.HandlerNotFound",
        "Class does not implement an appropriate handler interface: " + cls.getName(), null);
  }

  // Named classes rather than lambdas throughout: the first lambda of a JVM bootstraps invokedynamic, which
  // costs milliseconds of cold start.
  private static final class StreamHandler implements FunctionHandler {
    private final RequestStreamHandler handler;

    StreamHandler(RequestStreamHandler handler) {
      this.handler = handler;
    }

    @Override
    public void handle(byte[] event, InvocationContext context, ResponseBuffer out) throws Throwable {
      handler.handleRequest(new ByteArrayInputStream(event), out, context);
    }
  }

  private static final class PojoHandler implements FunctionHandler {
    private final RequestHandler<Object, Object> handler;
    private final Serialization.Reader reader;
    private final Serialization.Writer writer;

    PojoHandler(RequestHandler<Object, Object> handler, Serialization.Reader reader, Serialization.Writer writer) {
      this.handler = handler;
      this.reader = reader;
      this.writer = writer;
    }

    @Override
    public void handle(byte[] event, InvocationContext context, ResponseBuffer out) throws Throwable {
      Object result = handler.handleRequest(reader.read(event), context);
      if (writer != null) {
        writer.write(result, out);
      }
    }
  }

  private static Object instantiate(Class<?> cls) throws InitError {
    Constructor<?> constructor;
    try {
      constructor = cls.getConstructor();
    } catch (NoSuchMethodException e) {
      String message = cls.getEnclosingClass() != null && !Modifier.isStatic(cls.getModifiers())
          ? "Class " + cls.getName() + " cannot be instantiated because it is a non-static inner class"
          : "Class " + cls.getName() + " has no public zero-argument constructor";
      throw new InitError("java.lang.Exception", message, null);
    }
    try {
      return constructor.newInstance();
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new InitError(cause.getClass().getName(), ErrorReport.messageOf(cause), ErrorReport.stackOf(cause));
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new InitError(e.getClass().getName(), ErrorReport.messageOf(e), ErrorReport.stackOf(e));
    }
  }

  private static boolean isVoid(Type type) {
    return type == void.class || type == Void.class;
  }

  /** The type arguments {@code cls} gives {@code iface}, following superclasses and superinterfaces. */
  static Type[] typeArguments(Class<?> cls, Class<?> iface) {
    return search(cls, iface, Map.of(), 0);
  }

  private static Type[] search(Class<?> cls, Class<?> iface, Map<TypeVariable<?>, Type> bindings, int depth) {
    if (cls == null || depth > 20) {
      return null;
    }
    List<Type> supertypes = new ArrayList<>(Arrays.asList(cls.getGenericInterfaces()));
    if (cls.getGenericSuperclass() != null) {
      supertypes.add(cls.getGenericSuperclass());
    }
    for (Type t : supertypes) {
      Class<?> raw;
      Type[] args;
      if (t instanceof ParameterizedType p && p.getRawType() instanceof Class<?> r) {
        raw = r;
        args = p.getActualTypeArguments().clone();
        for (int i = 0; i < args.length; i++) {
          if (args[i] instanceof TypeVariable<?> v && bindings.containsKey(v)) {
            args[i] = bindings.get(v);
          }
        }
      } else if (t instanceof Class<?> c) {
        raw = c;
        args = null;
      } else {
        continue;
      }
      if (raw == iface) {
        if (args == null) {
          return null;
        }
        for (int i = 0; i < args.length; i++) {
          if (args[i] instanceof TypeVariable<?> v) {
            args[i] = v.getBounds().length > 0 ? v.getBounds()[0] : Object.class;
          }
        }
        return args;
      }
      if (!iface.isAssignableFrom(raw)) {
        continue;
      }
      Map<TypeVariable<?>, Type> next = new HashMap<>();
      if (args != null) {
        TypeVariable<?>[] params = raw.getTypeParameters();
        for (int i = 0; i < params.length && i < args.length; i++) {
          next.put(params[i], args[i]);
        }
      }
      Type[] found = search(raw, iface, next, depth + 1);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  // ------------------------------------------------------------------------------- Class::method

  private static final int IN = 0;
  private static final int OUT = 1;
  private static final int CONTEXT = 2;
  private static final int POJO = 3;

  private static FunctionHandler loadMethodHandler(Class<?> cls, String name, Serialization serialization)
      throws InitError {
    Method[] all;
    try {
      all = cls.getMethods();
    } catch (NoClassDefFoundError e) {
      throw new InitError(e.getClass().getName(),
          "Error loading method " + name + " on class " + cls.getName(), ErrorReport.stackOf(e));
    }
    List<Method> candidates = new ArrayList<>();
    for (Method m : all) {
      if (m.getName().equals(name)) {
        candidates.add(m);
      }
    }
    candidates.sort(new Comparator<Method>() {
      @Override
      public int compare(Method a, Method b) {
        return Integer.compare(priority(a), priority(b));
      }
    });
    for (Method m : candidates) {
      int[] kinds = kinds(m);
      if (kinds != null) {
        return methodHandler(cls, m, kinds, serialization);
      }
    }
    throw new InitError("Runtime.HandlerNotFound", "No public method named " + name
        + " with appropriate method signature found on class " + cls.getName(), null);
  }

  /** Lower is better: real methods before bridges, longer signatures first, a trailing Context first. */
  private static int priority(Method m) {
    Class<?>[] p = m.getParameterTypes();
    int score = (3 - Math.min(p.length, 3)) * 4;
    if (p.length > 0 && p[p.length - 1] == Context.class) {
      score -= 1;
    }
    if (m.isBridge() || m.isSynthetic()) {
      score += 100;
    }
    return score;
  }

  /** The role of each parameter, or null when the signature is not a handler signature. */
  private static int[] kinds(Method m) {
    Class<?>[] p = m.getParameterTypes();
    if (p.length > 3) {
      return null;
    }
    int[] kinds = new int[p.length];
    for (int i = 0; i < p.length; i++) {
      kinds[i] = p[i] == InputStream.class ? IN : p[i] == OutputStream.class ? OUT
          : p[i] == Context.class ? CONTEXT : POJO;
    }
    String shape = Arrays.toString(kinds);
    switch (shape) {
      case "[]", "[0]", "[1]", "[2]", "[3]", "[0, 1]", "[0, 2]", "[1, 2]", "[3, 2]", "[0, 1, 2]":
        return kinds;
      default:
        return null;
    }
  }

  private static FunctionHandler methodHandler(Class<?> cls, Method m, int[] kinds, Serialization serialization)
      throws InitError {
    Object target = Modifier.isStatic(m.getModifiers()) ? null : instantiate(cls);
    Serialization.Reader reader = null;
    boolean writesStream = false;
    for (int i = 0; i < kinds.length; i++) {
      if (kinds[i] == POJO) {
        reader = serialization.readerFor(m.getGenericParameterTypes()[i]);
      } else if (kinds[i] == OUT) {
        writesStream = true;
      }
    }
    Serialization.Writer writer = writesStream || isVoid(m.getGenericReturnType())
        ? null : serialization.writerFor(m.getGenericReturnType());
    try {
      m.setAccessible(true); // a public method of a non-public class
    } catch (RuntimeException ignored) {
      // invoke reports it
    }
    return new MethodHandler(target, m, kinds, reader, writer);
  }

  private static final class MethodHandler implements FunctionHandler {
    private final Object target;
    private final Method method;
    private final int[] kinds;
    private final Serialization.Reader reader;
    private final Serialization.Writer writer;

    MethodHandler(Object target, Method method, int[] kinds, Serialization.Reader reader,
        Serialization.Writer writer) {
      this.target = target;
      this.method = method;
      this.kinds = kinds;
      this.reader = reader;
      this.writer = writer;
    }

    @Override
    public void handle(byte[] event, InvocationContext context, ResponseBuffer out) throws Throwable {
      Object[] args = new Object[kinds.length];
      for (int i = 0; i < kinds.length; i++) {
        switch (kinds[i]) {
          case IN -> args[i] = new ByteArrayInputStream(event);
          case OUT -> args[i] = out;
          case CONTEXT -> args[i] = context;
          default -> args[i] = reader.read(event);
        }
      }
      Object result;
      try {
        result = method.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause() == null ? e : e.getCause();
      }
      if (writer != null) {
        writer.write(result, out);
      }
    }
  }
}
