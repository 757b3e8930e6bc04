package dev.kiln.store;

import dev.kiln.core.Alias;
import dev.kiln.core.CodeRef;
import dev.kiln.core.FunctionRecord;
import dev.kiln.core.FunctionState;
import dev.kiln.core.FunctionVersion;
import dev.kiln.core.LastUpdateStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Records with every field filled, for store tests. Each test works in its own random account and
 * with random code digests, so tests can share one database without seeing each other's rows.
 */
public final class TestRecords {
  /** Nanosecond precision on purpose: the store must give back exactly the Instant it was given. */
  public static final Instant CREATED = Instant.parse("2026-01-02T03:04:05.123456789Z");

  private TestRecords() {}

  public static String randomAccount() {
    return String.format("%012d", ThreadLocalRandom.current().nextLong(1_000_000_000_000L));
  }

  public static CodeRef randomCode(long size) {
    byte[] seed = new byte[32];
    ThreadLocalRandom.current().nextBytes(seed);
    return new CodeRef(CodeStore.sha256Hex(seed), size);
  }

  public static FunctionRecord function(String account, String name) {
    return new FunctionRecord(account, name, Map.of("team", "kiln", "env", "test"), 0, CREATED);
  }

  public static FunctionVersion version(String account, String functionName, String version, CodeRef code) {
    return new FunctionVersion(account, functionName, version, "python3.12", "app.handler",
        "arn:aws:iam::" + account + ":role/runner", "version " + version, 256, 30, 1024,
        Map.of("GREETING", "hello", "EMPTY", ""), List.of("x86_64"), code, CREATED.plusSeconds(60),
        "rev-" + version, FunctionState.Active, LastUpdateStatus.Successful);
  }

  public static Alias alias(String account, String functionName, String name, String version) {
    return new Alias(account, functionName, name, version, "alias " + name, Map.of("2", 0.25), "rev-" + name);
  }
}
