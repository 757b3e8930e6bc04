package dev.kiln.sandbox;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * What the classes calling libc through the FFM API share: linking a function, reading the errno a call left,
 * and {@code close(2)}. Each caller still links its own functions in its own static initializer, so a function
 * missing here makes only that caller unavailable.
 */
final class Libc {
  private Libc() {}

  /** A call made in a confined arena, with room for the errno it leaves in {@code errnoState}. */
  interface ErrnoCall<T> {
    T call(Arena arena, MemorySegment errnoState) throws Throwable;
  }

  /** The libc function {@code name}; throws when it cannot be linked here (not Linux, native access denied, ...). */
  static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
    Linker linker = Linker.nativeLinker();
    return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(), descriptor, options);
  }

  /** The option that makes a downcall take an errno state segment as its first argument. */
  static Linker.Option capturesErrno() {
    return Linker.Option.captureCallState("errno");
  }

  /**
   * Runs {@code call} with a fresh arena and errno state; an IOException or unchecked throwable passes through,
   * anything else the downcall throws becomes an IOException.
   */
  static <T> T withErrno(ErrnoCall<T> call) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      return call.call(arena, arena.allocate(Linker.Option.captureStateLayout()));
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException(t);
    }
  }

  /** The errno a call made through {@link #withErrno} left in its state. */
  static int errno(MemorySegment errnoState) {
    return (int) Handles.ERRNO.get(errnoState, 0L);
  }

  /** close(2), ignoring any failure: nothing can be done about one. */
  static void close(int fd) {
    try {
      int ignored = (int) Handles.CLOSE.invokeExact(fd);
    } catch (Throwable ignored) {
      // nothing to do
    }
  }

  /** Made on first use, after a caller's own functions linked. */
  private static final class Handles {
    static final VarHandle ERRNO =
        Linker.Option.captureStateLayout().varHandle(MemoryLayout.PathElement.groupElement("errno"));
    static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
  }
}
