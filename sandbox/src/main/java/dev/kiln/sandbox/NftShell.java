package dev.kiln.sandbox;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * One long-lived {@code nft -i} process that element updates are written to, so that applying a sandbox's policy at
 * launch costs a pipe round trip instead of starting {@code nft} (about 5 ms here, on the cold-start path).
 *
 * <p>After each batch it asks for the listing of an empty set of the table ({@code sync}); that listing ends in a
 * line {@code "}"}, and since nft handles its input in order, everything the batch printed on stderr is in the pipe
 * by then: non-empty stderr means the batch failed.
 */
final class NftShell implements AutoCloseable {
  private final String table;
  private final Process process;
  private final OutputStream in;
  private final BufferedReader out;
  private final InputStream err;

  /** @param table an {@code inet} table that has an empty set named {@code sync} */
  NftShell(Path nft, String table) throws IOException {
    this.table = table;
    var pb = new ProcessBuilder(List.of(nft.toString(), "-i"));
    pb.environment().clear();
    pb.environment().put("PATH", Os.HELPER_PATH);
    this.process = pb.start();
    this.in = process.getOutputStream();
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    this.err = process.getErrorStream();
  }

  /** nft refused a command of the batch (the process itself is fine). */
  static final class Refused extends IOException {
    Refused(String message) {
      super(message);
    }
  }

  /**
   * Runs {@code commands} (one per line).
   *
   * @throws Refused with nft's message when a command failed
   * @throws IOException when the process is gone or did not answer within 5 s (it is stopped then)
   */
  synchronized void run(String commands) throws IOException {
    if (!process.isAlive()) throw new IOException("nft -i has exited");
    var watchdog = Thread.ofVirtual().start(() -> {
      try {
        Thread.sleep(5_000);
        process.destroyForcibly(); // unblocks the read below
      } catch (InterruptedException answered) {
        // in time
      }
    });
    String line;
    try {
      in.write((commands + "list set inet " + table + " sync\n").getBytes(StandardCharsets.UTF_8));
      in.flush();
      while ((line = out.readLine()) != null && !line.equals("}")) {
        // the listing of the empty set
      }
    } finally {
      watchdog.interrupt();
    }
    if (line == null) throw new IOException("nft -i has exited");
    int pending = err.available();
    if (pending > 0) {
      throw new Refused(new String(err.readNBytes(pending), StandardCharsets.UTF_8).strip());
    }
  }

  @Override
  public synchronized void close() {
    try {
      in.close();
    } catch (IOException ignored) {
      // it exits at end of input; destroyed below otherwise
    }
    process.destroy();
  }
}
