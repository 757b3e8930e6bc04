package dev.kiln.sandbox;

import java.nio.file.Path;

/** The crun contract again, with the fallback Runtime API bridge: socat inside each sandbox. */
class CrunSocatSandboxTest extends CrunSandboxTest {
  @Override
  SandboxBackend newBackend(Path root, Path runtimeDir) {
    return new CrunBackend(root, runtimeDir, true);
  }
}
