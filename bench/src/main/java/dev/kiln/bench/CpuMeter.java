package dev.kiln.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Where the machine's CPU went during a measurement, from /proc: this bench process, the Kiln
 * server JVM, the processes under it (sandboxes and function runtimes), and everything else on the
 * machine (the baseline server, other people's builds). Linux only; reports nothing elsewhere.
 */
final class CpuMeter {
  /** USER_HZ: the unit of /proc's CPU times on every Linux architecture that matters here. */
  private static final double TICKS_PER_SECOND = 100.0;
  private static final int CORES = Runtime.getRuntime().availableProcessors();

  private volatile long kilnPid = -1;
  private volatile long baselinePid = -1;

  void watch(long kiln, long baseline) {
    this.kilnPid = kiln;
    this.baselinePid = baseline;
  }

  record Snapshot(long nanos, long machineBusy, long machineTotal, long self, long kiln,
      Map<Long, Long> sandboxes, long baseline) {}

  Snapshot take() {
    long[] machine = machineTicks();
    Map<Long, Long> under = new HashMap<>();
    if (kilnPid > 0) {
      ProcessHandle.of(kilnPid).ifPresent(p -> p.descendants().forEach(d -> under.put(d.pid(), ticks(d.pid()))));
    }
    return new Snapshot(System.nanoTime(), machine[0], machine[1], ticks(ProcessHandle.current().pid()),
        kilnPid > 0 ? ticks(kilnPid) : 0, under, baselinePid > 0 ? ticks(baselinePid) : 0);
  }

  /** Cores used by each party between two snapshots (NaN when /proc is not there). */
  record Usage(double bench, double kiln, double sandboxes, double baseline, double other, double idle) {
    static final Usage NONE = new Usage(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    @Override
    public String toString() {
      if (Double.isNaN(idle)) {
        return "cpu n/a";
      }
      return String.format("cpu cores: bench %.2f, kiln %.2f, sandboxes %.2f, baseline %.2f, other %.2f, idle %.2f",
          bench, kiln, sandboxes, baseline, other, idle);
    }
  }

  static Usage usage(Snapshot a, Snapshot b) {
    if (a == null || a.machineTotal == 0 || b.machineTotal <= a.machineTotal) {
      return Usage.NONE;
    }
    double seconds = (b.nanos - a.nanos) / 1e9;
    double machineBusyCores = (double) (b.machineBusy - a.machineBusy) / (b.machineTotal - a.machineTotal) * CORES;
    double self = Math.max(0, b.self - a.self) / TICKS_PER_SECOND / seconds;
    double kiln = Math.max(0, b.kiln - a.kiln) / TICKS_PER_SECOND / seconds;
    long sandboxTicks = 0;
    for (var e : b.sandboxes.entrySet()) {
      sandboxTicks += Math.max(0, e.getValue() - a.sandboxes.getOrDefault(e.getKey(), 0L));
    }
    double sandboxes = sandboxTicks / TICKS_PER_SECOND / seconds;
    double baseline = Math.max(0, b.baseline - a.baseline) / TICKS_PER_SECOND / seconds;
    double other = Math.max(0, machineBusyCores - self - kiln - sandboxes - baseline);
    double idle = Math.max(0, CORES - machineBusyCores);
    return new Usage(self, kiln, sandboxes, baseline, other, idle);
  }

  /** Busy and total ticks of the whole machine (first line of /proc/stat). */
  private static long[] machineTicks() {
    try {
      String first = Files.readAllLines(Path.of("/proc/stat")).getFirst();
      String[] f = first.trim().split("\\s+");
      long busy = 0;
      long total = 0;
      for (int i = 1; i < f.length && i <= 8; i++) {
        long v = Long.parseLong(f[i]);
        total += v;
        if (i != 4 && i != 5) { // idle, iowait
          busy += v;
        }
      }
      return new long[] {busy, total};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 0};
    }
  }

  /** utime + stime of one process, in ticks; 0 when it is gone or /proc is missing. */
  static long ticks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * CPU ticks the JIT compiler threads of a JVM ("C1/C2 CompilerThreadN") have used so far: when
   * they stop growing, the JVM has compiled its hot paths.
   */
  static long compilerTicks(long pid) {
    long sum = 0;
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          if (Files.readString(task.resolve("comm")).contains("CompilerThre")) {
            String stat = Files.readString(task.resolve("stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            sum += Long.parseLong(f[11]) + Long.parseLong(f[12]);
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return sum;
  }

  /** The 1, 5 and 15 minute load averages, as /proc/loadavg prints them. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }
}
