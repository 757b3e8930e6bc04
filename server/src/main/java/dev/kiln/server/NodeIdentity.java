package dev.kiln.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * This node's name on the work it claims in a shared store (asynchronous events). It is kept in the
 * data directory, so a node that restarts after a crash knows which claims were its own and can
 * release them at once instead of waiting for their leases to run out.
 */
final class NodeIdentity {
  private NodeIdentity() {}

  static String of(Path dataDir) throws IOException {
    Path file = dataDir.resolve("node-id");
    if (Files.exists(file)) {
      var id = Files.readString(file).strip();
      if (!id.isEmpty()) {
        return id;
      }
    }
    var id = UUID.randomUUID().toString();
    // Written aside and moved into place, so a crash never leaves a half-written identity.
    Path partial = dataDir.resolve("node-id.partial");
    Files.writeString(partial, id + "\n");
    Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return id;
  }
}
