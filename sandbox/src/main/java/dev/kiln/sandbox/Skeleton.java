package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

/**
 * The read-only root every crun sandbox of a backend shares: empty mount points and the usual symlinks
 * into {@code /usr}. Sharing is safe because crun mounts onto it only inside each container's own mount
 * namespace and makes it read-only there.
 */
final class Skeleton {
  static final List<String> DIRS =
      List.of("usr", "etc", "proc", "dev", "sys", "tmp", "var/task", "var/runtime", "run/kiln", "run/kiln-output", "run/kiln-proc/proc", "opt");
  static final Map<String, String> LINKS = Map.of("bin", "usr/bin", "lib", "usr/lib", "lib64", "usr/lib64", "sbin", "usr/sbin");

  private Skeleton() {}

  static Path create(Path dir) throws IOException {
    var mode = PosixFilePermissions.fromString("rwxr-xr-x");
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, mode);
    for (String d : DIRS) {
      Path p = dir.resolve(d);
      Files.createDirectories(p);
      for (Path q = p; !q.equals(dir); q = q.getParent()) Files.setPosixFilePermissions(q, mode);
    }
    // Only root may enter: a zygote's unmasked /proc is mounted below (see CrunSandbox#ZYGOTE_FULL_PROC).
    Files.setPosixFilePermissions(dir.resolve("run/kiln-proc"), PosixFilePermissions.fromString("rwx------"));
    for (var e : LINKS.entrySet()) {
      Path link = dir.resolve(e.getKey());
      if (!Files.isSymbolicLink(link)) Files.createSymbolicLink(link, Path.of(e.getValue()));
    }
    return dir;
  }
}
