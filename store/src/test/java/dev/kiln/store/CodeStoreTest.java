package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CodeStoreTest {
  private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  @TempDir Path dir;

  @Test
  void putReturnsTheDigestAndSizeAndStoresTheBytes() throws Exception {
    var store = new CodeStore(dir);
    byte[] zip = "PK fake zip".getBytes(StandardCharsets.UTF_8);
    var ref = store.put(zip);

    assertThat(ref.sha256Hex()).isEqualTo(CodeStore.sha256Hex(zip));
    assertThat(ref.size()).isEqualTo(zip.length);
    assertThat(store.exists(ref.sha256Hex())).isTrue();
    assertThat(store.size(ref.sha256Hex())).hasValue(zip.length);
    try (InputStream in = store.open(ref.sha256Hex()).orElseThrow()) {
      assertThat(in.readAllBytes()).isEqualTo(zip);
    }
    Path expected = dir.resolve("sha256").resolve(ref.sha256Hex().substring(0, 2)).resolve(ref.sha256Hex() + ".zip");
    assertThat(store.file(ref.sha256Hex())).contains(expected.toAbsolutePath());
    assertThat(Files.readAllBytes(expected)).isEqualTo(zip);
  }

  @Test
  void emptyContentHasTheWellKnownDigest() {
    assertThat(new CodeStore(dir).put(new byte[0]).sha256Hex()).isEqualTo(EMPTY_SHA256);
  }

  @Test
  void identicalContentIsStoredOnce() throws Exception {
    var store = new CodeStore(dir);
    byte[] zip = "same".getBytes(StandardCharsets.UTF_8);
    var first = store.put(zip);
    var second = store.put(zip.clone());

    assertThat(second).isEqualTo(first);
    try (Stream<Path> files = Files.walk(dir)) {
      assertThat(files.filter(Files::isRegularFile)).hasSize(1);
    }
  }

  @Test
  void concurrentPutsOfTheSameContentAgree() throws Exception {
    var store = new CodeStore(dir);
    byte[] zip = new byte[1 << 20];
    new java.util.Random(7).nextBytes(zip);
    var refs = new HashSet<Object>();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> futures = Stream.<Future<?>>generate(() -> executor.submit(() -> store.put(zip))).limit(16).toList();
      for (var future : futures) {
        refs.add(future.get());
      }
    }
    assertThat(refs).hasSize(1);
    try (Stream<Path> files = Files.walk(dir)) {
      assertThat(files.filter(Files::isRegularFile)).hasSize(1);
    }
    try (InputStream in = store.open(CodeStore.sha256Hex(zip)).orElseThrow()) {
      assertThat(in.readAllBytes()).isEqualTo(zip);
    }
  }

  @Test
  void missingPackageIsEmptyNotAnError() {
    var store = new CodeStore(dir);
    assertThat(store.open(EMPTY_SHA256)).isEmpty();
    assertThat(store.file(EMPTY_SHA256)).isEmpty();
    assertThat(store.size(EMPTY_SHA256)).isEmpty();
    assertThat(store.exists(EMPTY_SHA256)).isFalse();
    assertThat(store.delete(EMPTY_SHA256)).isFalse();
  }

  @Test
  void deleteRemovesThePackage() {
    var store = new CodeStore(dir);
    var ref = store.put(new byte[] {1, 2, 3});
    assertThat(store.delete(ref.sha256Hex())).isTrue();
    assertThat(store.exists(ref.sha256Hex())).isFalse();
    assertThat(store.open(ref.sha256Hex())).isEmpty();
    // Putting it again after a delete works.
    assertThat(store.put(new byte[] {1, 2, 3})).isEqualTo(ref);
    assertThat(store.exists(ref.sha256Hex())).isTrue();
  }

  @Test
  void digestsThatAreNotLowercaseHexNeverReachTheFileSystem() {
    var store = new CodeStore(dir);
    for (String bad : List.of("../../etc/passwd", EMPTY_SHA256.toUpperCase(), EMPTY_SHA256.substring(1), "")) {
      assertThatThrownBy(() -> store.open(bad)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.exists(bad)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.delete(bad)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> store.exists(null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void reopeningRemovesOnlyStaleTemporaryFiles() throws Exception {
    var ref = new CodeStore(dir).put(new byte[] {9});
    Path prefix = dir.resolve("sha256").resolve(ref.sha256Hex().substring(0, 2));
    Path stale = Files.writeString(prefix.resolve(".put-123.tmp"), "partial");
    Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofDays(1))));
    Path fresh = Files.writeString(prefix.resolve(".put-456.tmp"), "being written");

    var reopened = new CodeStore(dir);

    assertThat(stale).doesNotExist();
    assertThat(fresh).exists();
    assertThat(reopened.exists(ref.sha256Hex())).isTrue();
  }

  @Test
  void acknowledgedPutSurvivesKillMinus9() throws Exception {
    String line = ChildJvm.runAndKill("code", dir.toString(), "kiln code package");
    String sha = line.split(" ")[1];

    var store = new CodeStore(dir);
    try (InputStream in = store.open(sha).orElseThrow()) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("kiln code package");
    }
  }
}
