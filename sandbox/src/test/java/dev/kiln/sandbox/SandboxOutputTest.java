package dev.kiln.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Sandbox#takeOutput}, against files a real crun sandbox made in its output directory: only a regular file
 * of the sandbox user's, with one link, comes out; links (symbolic or hard), FIFOs and oversized files are refused
 * at once, and a process left running in the sandbox cannot swap the file while it is copied.
 */
class SandboxOutputTest {
  @TempDir Path temp;
  private CrunBackend backend;
  private Path secret;

  @BeforeAll
  static void crunAvailable() {
    String reason = CrunBackend.unavailableReason();
    assumeTrue(reason == null, "crun sandboxes unavailable here: " + reason);
  }

  @BeforeEach
  void setUp() throws IOException {
    backend = new CrunBackend(temp.resolve("sandboxes"), Files.createDirectories(temp.resolve("runtimes")));
    // A host file only root may read, at a path the sandbox can name but not see.
    secret = temp.resolve("secret");
    Files.writeString(secret, "HOST-SECRET\n");
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
  }

  @AfterEach
  void tearDown() {
    backend.close();
  }

  /** Runs {@code script} as the function would, with a writable output directory, and waits for it to end. */
  private Sandbox ran(String script) throws Exception {
    Sandbox s = backend.prepare(new SandboxLimits(256, 64, 256, false));
    var lines = new java.util.concurrent.ConcurrentLinkedQueue<String>();
    s.launch(new Launch(List.of("/bin/sh", "-c", script), Map.of("SECRET", secret.toString()), null, 256, Map.of(),
        true), lines::add);
    var exit = s.exited().get(60, TimeUnit.SECONDS);
    assertThat(exit.code()).as("the script ran: %s", lines).isZero();
    return s;
  }

  @Test
  void aRegularFileOfTheSandboxUserIsCopiedIntoANewFile() throws Exception {
    try (Sandbox s = ran("printf made-inside > /run/kiln-output/out.bin")) {
      Path target = temp.resolve("copy");
      assertThat(s.takeOutput("out.bin", target, 1024)).isEqualTo(11);
      assertThat(target).hasContent("made-inside");
      assertThat(Files.getPosixFilePermissions(target)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
      assertThat(Files.getAttribute(target, "unix:uid")).as("Kiln's copy").isEqualTo(Os.uid());
      assertThatThrownBy(() -> s.takeOutput("out.bin", target, 1024)).as("never over an existing file")
          .isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
    }
  }

  @Test
  void aSymbolicLinkToAHostFileIsRefused() throws Exception {
    try (Sandbox s = ran("ln -s \"$SECRET\" /run/kiln-output/out.bin; ln -s /etc/shadow /run/kiln-output/shadow")) {
      Path target = temp.resolve("copy");
      assertThatThrownBy(() -> s.takeOutput("out.bin", target, 1 << 20)).hasMessageContaining("symbolic link");
      assertThatThrownBy(() -> s.takeOutput("shadow", target, 1 << 20)).hasMessageContaining("symbolic link");
      assertThat(target).doesNotExist();
    }
  }

  @Test
  void aFifoIsRefusedWithoutWaitingForAWriter() throws Exception {
    try (Sandbox s = ran("mkfifo /run/kiln-output/out.bin")) {
      Path target = temp.resolve("copy");
      var taking = CompletableFuture.supplyAsync(() -> {
        try {
          return s.takeOutput("out.bin", target, 1 << 20);
        } catch (IOException e) {
          return e;
        }
      });
      assertThat(taking.get(5, TimeUnit.SECONDS)).as("answered at once").isInstanceOf(IOException.class)
          .asString().contains("not a regular file");
      assertThat(target).doesNotExist();
    }
  }

  @Test
  void aHardLinkAndAnOversizedFileAreRefused() throws Exception {
    try (Sandbox s = ran("printf x > /run/kiln-output/a; ln /run/kiln-output/a /run/kiln-output/b;"
        + " head -c 4096 /dev/zero > /run/kiln-output/big")) {
      assertThatThrownBy(() -> s.takeOutput("a", temp.resolve("a"), 1024)).hasMessageContaining("2 links");
      assertThatThrownBy(() -> s.takeOutput("big", temp.resolve("big"), 1024)).hasMessageContaining("larger than");
      assertThat(temp.resolve("a")).doesNotExist();
      assertThat(temp.resolve("big")).doesNotExist();
    }
  }

  @Test
  void aLinkInPlaceOfTheZygoteSocketIsNeverConnected() throws Exception {
    // A socket of the host the sandbox must not reach through Kiln (another sandbox's, a daemon's).
    Path hostSocket = temp.resolve("host.sock");
    try (var server = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      server.bind(java.net.UnixDomainSocketAddress.of(hostSocket));
      secret = hostSocket; // the path the sandbox links to
      try (Sandbox s = ran("ln -s \"$SECRET\" /run/kiln-output/zygote.sock; head -c1 /dev/zero > /run/kiln-output/file")) {
        assertThatThrownBy(() -> SandboxFiles.connectUnix(s.outputDir().resolve("zygote.sock"),
            SandboxFiles.sandboxUid())).hasMessageContaining("symbolic link");
        assertThatThrownBy(() -> SandboxFiles.connectUnix(s.outputDir().resolve("file"), SandboxFiles.sandboxUid()))
            .hasMessageContaining("not a socket");
      }
    }
  }

  @Test
  void aProcessLeftRunningCannotSwapTheFileAfterwards() throws Exception {
    // The main process ends; a background one keeps replacing the file with a link to the host's secret.
    try (Sandbox s = ran("printf good > /run/kiln-output/out.bin; (trap '' HUP; while :; do"
        + " ln -sfn \"$SECRET\" /run/kiln-output/tmp-link && mv -T /run/kiln-output/tmp-link /run/kiln-output/out.bin;"
        + " printf good > /run/kiln-output/out.bin; done) </dev/null >/dev/null 2>&1 & sleep 0.2")) {
      Path target = temp.resolve("copy");
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      try {
        s.takeOutput("out.bin", target, 1024);
        assertThat(target).hasContent("good");
      } catch (IOException e) {
        assertThat(e).hasMessageContaining("symbolic link"); // stopped right after a swap: refused, never followed
      }
      assertThat(System.nanoTime()).isLessThan(deadline);
      assertThat(((CrunSandbox) s).processIds()).as("nothing runs in the sandbox any more").isEmpty();
    }
  }
}
