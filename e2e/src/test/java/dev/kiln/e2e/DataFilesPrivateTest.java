package dev.kiln.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.e2e.support.KilnTestBase;
import dev.kiln.e2e.support.StoreKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Another local user of Kiln's host reads nothing of its data (issue 11, break 7): the data directory is 0700, and
 * the database (every account's keys), its WAL files, the credentials file and the code-link key are 0600, from
 * their creation and again after a start that finds them left open by an earlier Kiln.
 */
class DataFilesPrivateTest extends KilnTestBase {
  private static final String NOBODY = "65534";

  @Override
  protected StoreKind store() {
    return StoreKind.SQLITE;
  }

  @Override
  protected boolean devCredentials() {
    return false; // the node writes the credentials file of its generated key
  }

  @Test
  void theDataDirectoryAndItsSecretsAreTheOwnersOnly() throws Exception {
    // Other users may reach the data directory's parent, as they would /var/lib.
    Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    lambda.listFunctions(); // the database is in use
    assertPrivate();

    // An earlier Kiln left them readable by everyone: the next start puts that right.
    server.stop();
    Path data = server.dataDir();
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
    for (Path file : secrets()) {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }
    assertThat(readableBy(NOBODY, data.resolve("code-link.key"))).as("the setup really opened them").isTrue();
    server.restart();
    connectClients();
    lambda.listFunctions();
    assertPrivate();
  }

  private void assertPrivate() throws IOException, InterruptedException {
    Path data = server.dataDir();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data))).as("data directory")
        .isEqualTo("rwx------");
    List<Path> secrets = secrets();
    assertThat(secrets).extracting(p -> p.getFileName().toString())
        .contains("kiln.db", "credentials", "code-link.key");
    for (Path file : secrets) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).as("mode of %s", file)
          .isEqualTo("rw-------");
      assertThat(readableBy(NOBODY, file)).as("%s readable by uid %s", file, NOBODY).isFalse();
    }
  }

  private List<Path> secrets() {
    Path data = server.dataDir();
    var files = new ArrayList<Path>();
    for (String name : List.of("kiln.db", "kiln.db-wal", "kiln.db-shm", "credentials", "code-link.key")) {
      if (Files.exists(data.resolve(name))) {
        files.add(data.resolve(name));
      }
    }
    return files;
  }

  /** Whether another local user (a real uid, through setpriv) can read the file. */
  private static boolean readableBy(String uid, Path file) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", "head", "-c", "1",
        file.toString()).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor() == 0;
  }
}
