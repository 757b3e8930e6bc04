package dev.kiln.store;

import java.nio.file.Path;

/**
 * Run in a child JVM by the durability tests: makes one write, reports it on stdout, then waits to
 * be killed with SIGKILL, so the parent can check that an acknowledged write needs no clean
 * shutdown to survive.
 *
 * <p>Arguments: {@code sqlite <file> <account> <function>}, {@code postgres <url> <user>
 * <password> <account> <function>} or {@code code <dir> <text>}.
 */
public final class CrashingWriter {
  public static final String ACKNOWLEDGED = "acknowledged";

  private CrashingWriter() {}

  public static void main(String[] args) throws InterruptedException {
    switch (args[0]) {
      case "sqlite" -> writeFunction(new StoreConfig.Sqlite(Path.of(args[1])), args[2], args[3]);
      case "postgres" -> writeFunction(new StoreConfig.Postgres(args[1], args[2], args[3]), args[4], args[5]);
      case "code" -> {
        var ref = new CodeStore(Path.of(args[1])).put(args[2].getBytes(java.nio.charset.StandardCharsets.UTF_8));
        System.out.println(ACKNOWLEDGED + " " + ref.sha256Hex());
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
    System.out.flush();
    // Never closes anything: the parent kills this process.
    Thread.sleep(Long.MAX_VALUE);
  }

  private static void writeFunction(StoreConfig config, String account, String name) {
    // Not closed on purpose: the write must be durable without a clean shutdown.
    MetadataStore store = Stores.open(config);
    store.write(tx -> {
      tx.insertFunction(TestRecords.function(account, name));
      tx.putVersion(TestRecords.version(account, name, "$LATEST", TestRecords.randomCode(10)));
      return null;
    });
    System.out.println(ACKNOWLEDGED);
  }
}
