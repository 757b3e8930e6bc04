package dev.kiln.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sandbox's cgroup (v1) in every hierarchy Kiln uses: memory, pids, cpu, cpuacct, freezer, devices.
 * Kiln creates and removes these itself (crun runs with {@code --cgroup-manager=disabled} and simply
 * inherits them), so the cgroup outlives the container's last process and its OOM-kill counter and peak
 * memory can still be read after exit.
 */
final class CgroupV1 {
  private static final Logger log = LoggerFactory.getLogger(CgroupV1.class);
  static final Path MOUNT_ROOT = Path.of("/sys/fs/cgroup");
  static final List<String> REQUIRED = List.of("memory", "pids", "cpu", "freezer");
  static final List<String> OPTIONAL = List.of("cpuacct", "devices");
  private static final long MIB = 1024L * 1024;
  /** Lambda's ratio: a function gets one vCPU per 1,769 MB of memory. */
  static final int MB_PER_VCPU = 1769;
  /** The CFS period; the quota is a share of it. 100 ms is the kernel's default. */
  static final long CFS_PERIOD_US = 100_000;
  /**
   * The least CPU a sandbox gets, in thousandths of a vCPU. Lambda's ratio alone would give 128 MB 0.07 vCPU: each
   * CPU-second of a cold start (a JVM's class loading and JIT, a large Python import) would then take 14 s of wall
   * time, past the 3 s default timeout and far past what functions of 128-512 MB (most of the e2e suite's) are
   * written for. Half a vCPU keeps a single-threaded cold start within 2x of one on a full core, and still holds a
   * hog of any size under 884 MB to half a core: on a two-core host it leaves its neighbours one and a half.
   */
  static final int MIN_MILLI_VCPUS = 500;
  /** Character devices a sandbox may use: null, zero, full, random, urandom, tty, console, ptmx, pts. */
  private static final List<String> DEVICES =
      List.of("c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm",
          "c 5:2 rwm", "c 136:* rwm");

  /** Controller name → its hierarchy's mount directory, for the v1 controllers that are mounted here. */
  static Map<String, Path> mounts() {
    var result = new LinkedHashMap<String, Path>();
    for (String c : concat(REQUIRED, OPTIONAL)) {
      Path p = MOUNT_ROOT.resolve(c);
      if (Files.isRegularFile(p.resolve("tasks")) && Files.isRegularFile(p.resolve("cgroup.procs"))) {
        try {
          result.put(c, p.toRealPath());
        } catch (IOException ignored) {
          // not usable
        }
      }
    }
    return result;
  }

  /** Why cgroup v1 cannot be used here, or null. */
  static String unavailableReason(Map<String, Path> mounts) {
    var missing = new ArrayList<String>();
    for (String c : REQUIRED) if (!mounts.containsKey(c)) missing.add(c);
    return missing.isEmpty() ? null : "cgroup v1 controllers not mounted under /sys/fs/cgroup: " + missing;
  }

  private final Map<String, Path> dirs; // controller -> this group's directory (one entry per distinct dir)
  private final boolean memsw;

  private CgroupV1(Map<String, Path> dirs) {
    this.dirs = dirs;
    this.memsw = Files.exists(dirs.get("memory").resolve("memory.memsw.limit_in_bytes"));
  }

  /** Creates the group {@code relative} (e.g. kiln/ab12/sandboxid) in every mounted hierarchy. */
  static CgroupV1 create(Map<String, Path> mounts, String relative) throws IOException {
    var dirs = new LinkedHashMap<String, Path>();
    var seen = new LinkedHashSet<Path>();
    for (var e : mounts.entrySet()) {
      Path d = e.getValue().resolve(relative);
      if (seen.add(d)) dirs.put(e.getKey(), d);
      else dirs.putIfAbsent(e.getKey(), d);
    }
    for (Path d : new LinkedHashSet<>(dirs.values())) {
      for (int attempt = 0; ; attempt++) {
        try {
          Files.createDirectories(d);
          break;
        } catch (NoSuchFileException e) { // a parent was just removed by a closing backend: retry
          if (attempt > 5) throw e;
        }
      }
    }
    return new CgroupV1(dirs);
  }

  /** The cgroup.procs files a process writes its pid to, to join the group in every hierarchy. */
  List<Path> procsFiles() {
    var result = new ArrayList<Path>();
    for (Path d : new LinkedHashSet<>(dirs.values())) result.add(d.resolve("cgroup.procs"));
    return result;
  }

  void applyInitial(SandboxLimits limits) throws IOException {
    setMemory(limits.memoryMb());
    write("pids", "pids.max", Integer.toString(limits.maxPids() + 1)); // + the crun process itself
    Path devices = dirs.get("devices");
    if (devices != null) {
      write("devices", "devices.deny", "a");
      for (String rule : DEVICES) write("devices", "devices.allow", rule);
    }
  }

  /**
   * Memory limit with no swap; CPU proportional to memory as on Lambda: cpu.shares (1024 per 1769 MB, the weight
   * under contention) and a CFS quota (one vCPU per 1769 MB, at least {@link #MIN_MILLI_VCPUS}), the most it may
   * use even on an idle host, so a CPU hog cannot take the cores its neighbours' requests need.
   */
  void setMemory(int memoryMb) throws IOException {
    String bytes = Long.toString(memoryMb * MIB);
    if (memsw) {
      long current = Long.parseLong(read("memory", "memory.limit_in_bytes"));
      // memory.limit must never exceed memory.memsw.limit: raise memsw first, lower it last.
      if (memoryMb * MIB > current) {
        write("memory", "memory.memsw.limit_in_bytes", bytes);
        write("memory", "memory.limit_in_bytes", bytes);
      } else {
        write("memory", "memory.limit_in_bytes", bytes);
        write("memory", "memory.memsw.limit_in_bytes", bytes);
      }
    } else {
      write("memory", "memory.limit_in_bytes", bytes);
      try {
        write("memory", "memory.swappiness", "0");
      } catch (IOException ignored) {
        // best effort
      }
    }
    write("cpu", "cpu.shares", Long.toString(Math.max(2, memoryMb * 1024L / MB_PER_VCPU)));
    write("cpu", "cpu.cfs_period_us", Long.toString(CFS_PERIOD_US));
    write("cpu", "cpu.cfs_quota_us", Long.toString(cpuQuotaMicros(memoryMb)));
  }

  /** The CFS quota per {@link #CFS_PERIOD_US} for a memory size. */
  static long cpuQuotaMicros(int memoryMb) {
    long milliVcpus = Math.max(MIN_MILLI_VCPUS, memoryMb * 1000L / MB_PER_VCPU);
    return CFS_PERIOD_US * milliVcpus / 1000;
  }

  void resetPeakMemory() throws IOException {
    write("memory", "memory.max_usage_in_bytes", "0");
  }

  long peakMemoryBytes() throws IOException {
    return Long.parseLong(read("memory", "memory.max_usage_in_bytes"));
  }

  long currentMemoryBytes() throws IOException {
    return Long.parseLong(read("memory", "memory.usage_in_bytes"));
  }

  long cpuNanos() throws IOException {
    return dirs.containsKey("cpuacct") ? Long.parseLong(read("cpuacct", "cpuacct.usage")) : -1;
  }

  long oomKills() throws IOException {
    for (String line : read("memory", "memory.oom_control").split("\n")) {
      if (line.startsWith("oom_kill ")) return Long.parseLong(line.substring(9).trim());
    }
    return 0;
  }

  /**
   * Freezes the group and waits until it is FROZEN. The v1 freezer can stay in FREEZING when it catches a
   * task in the middle of fork/vfork (seen here with a shell loop forking {@code sleep}); as runc does,
   * thaw and try again when it does not settle quickly.
   */
  void freeze() throws IOException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
      write("freezer", "freezer.state", "FROZEN");
      for (int i = 0; i < 20; i++) {
        if (read("freezer", "freezer.state").equals("FROZEN")) return;
        if (i < 10) Thread.onSpinWait(); else Os.sleep(1);
      }
      write("freezer", "freezer.state", "THAWED");
      if (attempt > 3) Os.sleep(1);
    }
    throw new IOException("cgroup did not freeze within 5 s");
  }

  void thaw() throws IOException {
    write("freezer", "freezer.state", "THAWED");
  }

  Set<Long> pids() {
    return pids(new LinkedHashSet<>(dirs.values()));
  }

  /** Moves a running process (and its future children) into the group, in every hierarchy. */
  void addProcess(long pid) throws IOException {
    for (Path d : new LinkedHashSet<>(dirs.values())) {
      Files.writeString(d.resolve("cgroup.procs"), Long.toString(pid));
    }
  }

  /** Kills every process in the group (the group stays, so its counters can still be read). */
  void killAll() {
    killAll(new LinkedHashSet<>(dirs.values()), dirs.get("freezer"));
  }

  /** Removes the group's directories; call after {@link #killAll()}. */
  void remove() {
    removeDirs(new LinkedHashSet<>(dirs.values()));
  }

  /** Process ids currently in any of the given group directories. */
  static Set<Long> pids(Iterable<Path> groupDirs) {
    var pids = new LinkedHashSet<Long>();
    for (Path d : groupDirs) {
      try {
        for (String l : Files.readAllLines(d.resolve("cgroup.procs"))) {
          if (!l.isBlank()) pids.add(Long.parseLong(l.trim()));
        }
      } catch (IOException | NumberFormatException ignored) {
        // gone
      }
    }
    return pids;
  }

  /**
   * Kills every process in the groups. The {@code crun} processes go last: once the container's processes
   * are dead, crun reaps the container's init and exits by itself, so no zombie is left to the host's init.
   */
  static void killAll(Set<Path> groupDirs, Path freezerDir) {
    if (freezerDir != null) {
      try {
        Files.write(freezerDir.resolve("freezer.state"), "THAWED".getBytes(StandardCharsets.US_ASCII),
            StandardOpenOption.WRITE);
      } catch (IOException ignored) {
        // not there
      }
    }
    long graceUntil = 0;
    for (int round = 0; round < 400; round++) {
      Set<Long> pids = pids(groupDirs);
      if (pids.isEmpty()) return;
      boolean killedOthers = false;
      for (long pid : pids) {
        if (!isCrun(pid)) {
          Os.kill(pid);
          killedOthers = true;
        }
      }
      if (!killedOthers) { // only crun left: give it a moment to reap and exit, then kill it too
        if (graceUntil == 0) graceUntil = System.nanoTime() + 2_000_000_000L;
        if (System.nanoTime() > graceUntil) pids.forEach(Os::kill);
      }
      Os.sleep(round < 20 ? 1 : 10);
    }
    log.warn("processes remain in cgroups {} after 4 s of killing", groupDirs);
  }

  private static boolean isCrun(long pid) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).trim().equals("crun");
    } catch (IOException e) {
      return false;
    }
  }

  static void removeDirs(Set<Path> groupDirs) {
    for (Path d : groupDirs) {
      for (int attempt = 0; ; attempt++) {
        try {
          Files.deleteIfExists(d);
          break;
        } catch (IOException e) { // EBUSY while the last killed tasks exit
          if (attempt >= 200) {
            log.warn("could not remove cgroup {}: {}", d, e.toString());
            break;
          }
          Os.sleep(10);
        }
      }
    }
  }

  /**
   * Removes every group under {@code relative} (e.g. kiln/ab12) in every hierarchy: what a crashed backend
   * left. Returns how many sandbox groups were found.
   */
  static int destroyAllUnder(Map<String, Path> mounts, String relative) {
    var groups = new LinkedHashMap<String, Set<Path>>(); // sandbox id -> its dirs
    var freezers = new LinkedHashMap<String, Path>();
    for (var e : mounts.entrySet()) {
      Path base = e.getValue().resolve(relative);
      if (!Files.isDirectory(base)) continue;
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(base, Files::isDirectory)) {
        for (Path d : ds) {
          String id = d.getFileName().toString();
          groups.computeIfAbsent(id, k -> new LinkedHashSet<>()).add(d);
          if (e.getKey().equals("freezer")) freezers.put(id, d);
        }
      } catch (IOException ignored) {
        // gone
      }
    }
    // In parallel: each group may wait up to 2 s for its crun to exit, and a crash can leave many.
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      groups.forEach((id, ds) -> pool.execute(() -> {
        killAll(ds, freezers.get(id));
        removeDirs(ds);
      }));
    }
    removeParents(mounts, relative);
    return groups.size();
  }

  /** Removes {@code relative} and its parent directories in every hierarchy when they are empty. */
  static void removeParents(Map<String, Path> mounts, String relative) {
    for (Path mount : new LinkedHashSet<>(mounts.values())) {
      Path d = mount.resolve(relative);
      while (!d.equals(mount)) {
        try {
          Files.deleteIfExists(d);
        } catch (IOException notEmpty) {
          break; // another backend's groups are still there
        }
        d = d.getParent();
      }
    }
  }

  private String read(String controller, String file) throws IOException {
    return Files.readString(dirs.get(controller).resolve(file), StandardCharsets.US_ASCII).trim();
  }

  private void write(String controller, String file, String value) throws IOException {
    Files.write(dirs.get(controller).resolve(file), value.getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
  }

  private static List<String> concat(List<String> a, List<String> b) {
    var r = new ArrayList<String>(a);
    r.addAll(b);
    return r;
  }
}
