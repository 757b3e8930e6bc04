package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;

/** Test helpers: run a command in a sandbox and collect its output; a one-shot Runtime API stand-in. */
final class Runs {
  private Runs() {}

  /** Output lines, collected as they arrive. */
  static final class Output {
    private final List<String> lines = new ArrayList<>();

    void add(String line) {
      synchronized (lines) {
        lines.add(line);
        lines.notifyAll();
      }
    }

    List<String> lines() {
      synchronized (lines) {
        return List.copyOf(lines);
      }
    }

    /** Waits until a line satisfying {@code p} arrived. */
    String await(java.util.function.Predicate<String> p, Duration max) throws InterruptedException {
      long deadline = System.nanoTime() + max.toNanos();
      synchronized (lines) {
        while (true) {
          for (String l : lines) if (p.test(l)) return l;
          long left = deadline - System.nanoTime();
          if (left <= 0) throw new AssertionError("no such line within " + max + "; got " + lines);
          TimeUnit.NANOSECONDS.timedWait(lines, left);
        }
      }
    }
  }

  record Result(Sandbox.Exit exit, List<String> lines) {}

  static Output start(Sandbox s, List<String> command, Map<String, String> env, Path codeDir, int memoryMb) {
    var out = new Output();
    s.launch(new Launch(command, env, codeDir, memoryMb), out::add);
    return out;
  }

  static Result run(Sandbox s, List<String> command, Map<String, String> env, Path codeDir, int memoryMb)
      throws Exception {
    Output out = start(s, command, env, codeDir, memoryMb);
    Sandbox.Exit exit = s.exited().get(60, TimeUnit.SECONDS);
    return new Result(exit, out.lines());
  }

  static Result sh(Sandbox s, String script) throws Exception {
    return run(s, List.of("/bin/sh", "-c", script), Map.of(), null, 256);
  }

  static Result sh(Sandbox s, String script, Map<String, String> env) throws Exception {
    return run(s, List.of("/bin/sh", "-c", script), env, null, 256);
  }

  /** Listens on a sandbox's Runtime API socket and answers one HTTP request; yields its request line. */
  static CompletableFuture<String> answerOnce(Path socket, String body) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
    var result = new CompletableFuture<String>();
    Thread.ofVirtual().start(() -> {
      try (server; SocketChannel c = server.accept()) {
        var head = new StringBuilder();
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (!head.toString().contains("\r\n\r\n")) {
          buf.clear();
          if (c.read(buf) < 0) break;
          buf.flip();
          head.append(StandardCharsets.ISO_8859_1.decode(buf));
        }
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        String response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + b.length
            + "\r\nConnection: close\r\n\r\n" + body;
        c.write(ByteBuffer.wrap(response.getBytes(StandardCharsets.UTF_8)));
        result.complete(head.toString().lines().findFirst().orElse(""));
      } catch (IOException e) {
        result.completeExceptionally(e);
      }
    });
    return result;
  }

  /** Process ids still running among {@code pids} (a zombie, dead but not yet reaped by init, is not). */
  static List<Long> alive(List<Long> pids) {
    return pids.stream().filter(p -> {
      try {
        String stat = Files.readString(Path.of("/proc", Long.toString(p), "stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
      } catch (IOException e) {
        return false;
      }
    }).toList();
  }
}
