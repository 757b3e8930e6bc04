package dev.kiln.sandbox;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens a listening TCP socket inside another process's network namespace, for the JVM to accept on.
 *
 * <p>A socket belongs to the network namespace its creating thread was in when it was created, and stays
 * there. So one dedicated platform thread enters the sandbox's namespace with {@code setns(2)}, creates
 * and binds the socket, and returns to the JVM's namespace; the JVM then accepts connections on it like on
 * any socket, while inside the sandbox it is {@code 127.0.0.1:9001}. Virtual threads must never do this
 * (they move between carrier threads), hence the single platform thread.
 *
 * <p>Uses the FFM API ({@code open}, {@code setns}, {@code close} from libc): run the JVM with
 * {@code --enable-native-access=ALL-UNNAMED} to avoid the JDK's one-time warning. Needs CAP_SYS_ADMIN
 * (root). {@link #available()} says whether it works here.
 */
final class NetNs {
  private static final Logger log = LoggerFactory.getLogger(NetNs.class);
  private static final int CLONE_NEWNET = 0x40000000;
  private static final int O_RDONLY_CLOEXEC = 0x80000;

  private static final MethodHandle OPEN;
  private static final MethodHandle SETNS;
  private static final MethodHandle KILL;
  private static final Throwable UNAVAILABLE;

  static {
    MethodHandle open = null, setns = null, kill = null;
    Throwable problem = null;
    try {
      open = Libc.downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Libc.capturesErrno());
      setns = Libc.downcall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), Libc.capturesErrno());
      kill = Libc.downcall("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    } catch (Throwable t) { // not Linux, native access denied, ...
      problem = t;
    }
    OPEN = open;
    SETNS = setns;
    KILL = kill;
    UNAVAILABLE = problem;
  }

  private static ExecutorService thread = newThread();
  private static int homeFd = -1; // the JVM's own network namespace, opened on the namespace thread

  private NetNs() {}

  private static ExecutorService newThread() {
    return Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("kiln-netns").unstarted(r));
  }

  /** Null when namespaces can be entered here, else why not. */
  static synchronized String unavailableReason() {
    if (UNAVAILABLE != null) return "native calls unavailable: " + UNAVAILABLE;
    if (!Os.isLinux()) return "not Linux";
    try {
      onThread(() -> {
        if (homeFd < 0) homeFd = open("/proc/thread-self/ns/net");
        setns(homeFd); // a no-op move into our own namespace: proves setns is permitted
        return null;
      });
      return null;
    } catch (IOException e) {
      return e.getMessage();
    }
  }

  /** A TCP socket listening on {@code address} in the network namespace of process {@code pid}. */
  static synchronized ServerSocketChannel listen(long pid, InetSocketAddress address) throws IOException {
    if (UNAVAILABLE != null) throw new IOException("native calls unavailable: " + UNAVAILABLE);
    return onThread(() -> {
      if (homeFd < 0) homeFd = open("/proc/thread-self/ns/net");
      int target = open("/proc/" + pid + "/ns/net");
      try {
        setns(target);
        ServerSocketChannel channel;
        try {
          channel = ServerSocketChannel.open(StandardProtocolFamily.INET);
        } finally {
          try {
            setns(homeFd);
          } catch (IOException e) { // this thread is stuck in the sandbox's namespace: never use it again
            log.error("cannot return to the JVM's network namespace; replacing the namespace thread", e);
            thread.shutdown();
            thread = newThread();
            homeFd = -1;
            throw e;
          }
        }
        try {
          channel.bind(address, 128);
        } catch (IOException e) {
          channel.close();
          throw e;
        }
        return channel;
      } finally {
        Libc.close(target);
      }
    });
  }

  private interface IoCall<T> {
    T call() throws IOException;
  }

  private static <T> T onThread(IoCall<T> call) throws IOException {
    try {
      return thread.submit(call::call).get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) throw io;
      throw new IOException(e.getCause().toString(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }

  private static int open(String path) throws IOException {
    return Libc.withErrno((arena, state) -> {
      int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path), O_RDONLY_CLOEXEC);
      if (fd < 0) throw new IOException("open " + path + " failed: errno " + Libc.errno(state));
      return fd;
    });
  }

  private static void setns(int fd) throws IOException {
    Libc.withErrno((arena, state) -> {
      int rc = (int) SETNS.invokeExact(state, fd, CLONE_NEWNET);
      if (rc != 0) throw new IOException("setns(CLONE_NEWNET) failed: errno " + Libc.errno(state));
      return null;
    });
  }

  /**
   * kill(2) without a helper process: {@code pid} negative for a process group. False when native calls
   * are unavailable (use {@code /usr/bin/kill}) or the target is gone.
   */
  static boolean kill(long pid, int signal) {
    if (KILL == null) return false;
    try {
      return (int) KILL.invokeExact((int) pid, signal) == 0;
    } catch (Throwable t) {
      return false;
    }
  }

  static boolean nativeCallsAvailable() {
    return KILL != null;
  }

}
