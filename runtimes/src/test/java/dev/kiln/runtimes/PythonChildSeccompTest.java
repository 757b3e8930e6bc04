package dev.kiln.runtimes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zygote's child seccomp filter ({@code _KILN_CHILD_SECCOMP}): the Python bootstrap loads a raw
 * {@code struct sock_filter} program once and a forked child installs it on itself, with no_new_privs; a program the
 * kernel refuses fails the child's isolation with a clear message. Run with the machine's python3 on a filter made
 * here that makes uname(2) fail with EPERM.
 */
class PythonChildSeccompTest {
  /** __NR_uname on x86_64. */
  private static final int UNAME = 63;

  /** Loads bootstrap.py as a module, loads the program, and installs it in a forked child only. */
  private static final String SCRIPT = """
      import importlib.util, os, sys
      spec = importlib.util.spec_from_file_location("kiln_bootstrap", sys.argv[1])
      bootstrap = importlib.util.module_from_spec(spec)
      spec.loader.exec_module(bootstrap)
      bootstrap._load_fork_tools()
      bootstrap._load_child_seccomp(sys.argv[2])
      sys.stdout.flush()
      child = os.fork()
      if child == 0:
          try:
              bootstrap._install_child_seccomp()
          except OSError as e:
              print("child failed: %s" % e)
              sys.stdout.flush()
              os._exit(3)
          try:
              os.uname()
              print("child uname allowed")
          except PermissionError:
              print("child uname denied")
          with open("/proc/self/status") as f:
              print("child " + [l for l in f if l.startswith("NoNewPrivs")][0].strip())
          sys.stdout.flush()
          os._exit(0)
      _, status = os.waitpid(child, 0)
      print("parent uname %s" % os.uname().sysname)
      print("child exit %d" % os.waitstatus_to_exitcode(status))
      """;

  @TempDir Path dir;

  @BeforeAll
  static void linuxOnX8664WithPython() {
    assumeTrue(System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64"),
        "the filter made here uses x86_64 system call numbers");
    assumeTrue(Files.isExecutable(Path.of(RuntimeCatalog.PYTHON)), "python3 is not installed");
  }

  @Test
  void aForkedChildInstallsTheFilterOnItselfOnly() throws Exception {
    // load the system call number; uname -> errno EPERM; anything else -> allow
    Path filter = program(
        insn(0x20, 0, 0, 0),
        insn(0x15, 0, 1, UNAME),
        insn(0x06, 0, 0, 0x00050000 | 1),
        insn(0x06, 0, 0, 0x7fff0000));
    List<String> out = run(filter);
    assertThat(out).contains("child uname denied", "child NoNewPrivs:\t1", "parent uname Linux", "child exit 0")
        .doesNotContain("child uname allowed");
  }

  @Test
  void aProgramTheKernelRefusesFailsTheChild() throws Exception {
    Path filter = program(insn(0xffff, 0, 0, 0)); // no such BPF instruction
    List<String> out = run(filter);
    assertThat(out).anyMatch(l -> l.startsWith("child failed:") && l.contains("failed to install the seccomp filter"));
    assertThat(out).contains("child exit 3");
  }

  @Test
  void aFileThatIsNoProgramIsRefusedAtLoad() throws Exception {
    Path filter = dir.resolve("short.bpf");
    Files.write(filter, new byte[] {1, 2, 3});
    List<String> out = run(filter);
    assertThat(String.join("\n", out)).contains("ValueError", "is not a seccomp program (3 bytes)");
  }

  private static byte[] insn(int code, int jt, int jf, int k) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort((short) code).put((byte) jt)
        .put((byte) jf).putInt(k).array();
  }

  private Path program(byte[]... instructions) throws IOException {
    var all = ByteBuffer.allocate(8 * instructions.length);
    for (byte[] i : instructions) {
      all.put(i);
    }
    Path file = dir.resolve("filter.bpf");
    Files.write(file, all.array());
    return file;
  }

  private List<String> run(Path filter) throws Exception {
    Path bootstrap = Path.of(PythonChildSeccompTest.class.getResource("python/bootstrap.py").toURI());
    Process p = new ProcessBuilder(RuntimeCatalog.PYTHON, "-S", "-c", SCRIPT, bootstrap.toString(), filter.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("python finished: %s", out).isTrue();
    return out.lines().toList();
  }
}
