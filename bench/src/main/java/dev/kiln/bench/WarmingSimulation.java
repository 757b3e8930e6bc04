package dev.kiln.bench;

import dev.kiln.warming.FixedKeepAlive;
import dev.kiln.warming.HybridHistogramPolicy;
import dev.kiln.warming.WarmingPolicy;
import dev.kiln.warming.sim.Simulator;
import dev.kiln.warming.sim.SyntheticTrace;
import dev.kiln.warming.sim.Trace;
import dev.kiln.warming.sim.TraceFunction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.DoubleFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Compares keep-alive policies on a synthetic Azure-like trace in the simulator: the fixed
 * keep-alive Kiln used before against the hybrid histogram policy, at equal idle memory. Runs in
 * process, starts no server, takes a minute or two.
 *
 * <p>Equal memory is reached both ways: the policy that held more idle memory is replayed again
 * under an idle-memory budget (least recently used evicted) found by bisection so that it holds what
 * the other held; and the fixed keep-alive is lengthened or shortened until it holds what the
 * histogram policy held.
 */
@Command(name = "warming-simulation", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Replays a synthetic Azure-like trace against the fixed keep-alive and the hybrid histogram "
        + "policy and prints cold-start rates at equal idle memory.")
public final class WarmingSimulation implements Callable<Integer> {
  /** Bisection stops when idle memory is this close to the target. */
  private static final double MEMORY_TOLERANCE = 0.01;
  private static final int MAX_STEPS = 24;

  @Option(names = "--functions", defaultValue = "1000", description = "Functions in the trace (default: ${DEFAULT-VALUE}).")
  int functions;

  @Option(names = "--days", defaultValue = "3", description = "Simulated days (default: ${DEFAULT-VALUE}).")
  double days;

  @Option(names = "--seed", defaultValue = "42", description = "Trace seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--keep-alive", defaultValue = "PT10M",
      description = "The fixed keep-alive compared against, ISO-8601 (default: ${DEFAULT-VALUE}).")
  Duration keepAlive;

  public static void main(String[] args) {
    System.exit(new CommandLine(new WarmingSimulation()).execute(args));
  }

  @Override
  public Integer call() {
    long started = System.nanoTime();
    var trace = SyntheticTrace.azureLike(functions, Duration.ofMinutes(Math.round(days * 24 * 60)), seed);
    describe(trace);

    var fixedPolicy = new FixedKeepAlive(keepAlive);
    var histogramPolicy = new HybridHistogramPolicy(HybridHistogramPolicy.Settings.defaults(keepAlive));
    var fixed = Simulator.run(trace, fixedPolicy, Simulator.UNBOUNDED);
    var histogram = Simulator.run(trace, histogramPolicy, Simulator.UNBOUNDED);

    var rows = new ArrayList<Row>();
    rows.add(new Row(fixed.policy(), "none", fixed));
    rows.add(new Row(histogram.policy(), "none", histogram));
    if (histogram.idleGbSeconds() > fixed.idleGbSeconds()) {
      var budgeted = underBudget(trace, histogramPolicy, fixed.idleGbSeconds(), histogram);
      rows.add(new Row(histogram.policy(), budgeted.idleBudgetMb() + " MB", budgeted));
    } else {
      var budgeted = underBudget(trace, fixedPolicy, histogram.idleGbSeconds(), fixed);
      rows.add(new Row(fixed.policy(), budgeted.idleBudgetMb() + " MB", budgeted));
    }
    var stretched = fixedMatching(trace, histogram.idleGbSeconds());
    rows.add(new Row(stretched.policy(), "none", stretched));
    // Never retiring anything leaves only the cold starts no keep-alive can avoid: a floor, not a policy.
    var floor = Simulator.run(trace, new FixedKeepAlive(Duration.ofMillis(trace.lengthMillis())), Simulator.UNBOUNDED);
    rows.add(new Row("never retire (floor)", "none", floor));

    var table = new Table().row("policy", "idle budget", "cold starts", "cold-start rate", "p75 function",
        "idle GB-s", "vs fixed: cold", "vs fixed: p75", "pre-warms (hit)").rule();
    for (var row : rows) {
      var r = row.result();
      table.row(row.policy(), row.budget(), String.valueOf(r.coldStarts()), percent(r.coldStartRate(), 2),
          percent(r.p75FunctionColdStartRate(), 1), String.format(Locale.ROOT, "%.0f", r.idleGbSeconds()),
          ratio(fixed.coldStartRate(), r.coldStartRate()), ratio(fixed.p75FunctionColdStartRate(),
              r.p75FunctionColdStartRate()),
          r.prewarms() + " (" + r.prewarmHits() + ")");
    }
    System.out.println();
    System.out.print(table.render());
    System.out.println();
    System.out.println("'vs fixed' is how many times fewer cold starts than " + fixed.policy()
        + " without a budget (higher is better).");
    System.out.println("Equal memory: compare the rows whose idle GB-s match. 'never retire' keeps every environment "
        + "for the whole trace: the cold starts no policy avoids.");
    System.out.printf(Locale.ROOT, "(%.1f s)%n", (System.nanoTime() - started) / 1e9);
    return 0;
  }

  private record Row(String policy, String budget, Simulator.Result result) {}

  /** Replays {@code policy} under the idle-memory budget at which it holds {@code targetGbSeconds}. */
  private static Simulator.Result underBudget(Trace trace, WarmingPolicy policy, double targetGbSeconds,
      Simulator.Result unbounded) {
    long peak = trace.functions().stream().mapToLong(TraceFunction::memoryMb).sum();
    return bisect(budget -> Simulator.run(trace, policy, (long) budget), 0, peak, targetGbSeconds, unbounded);
  }

  /** The fixed keep-alive that holds {@code targetGbSeconds} of idle memory. */
  private Simulator.Result fixedMatching(Trace trace, double targetGbSeconds) {
    DoubleFunction<Simulator.Result> run = minutes -> Simulator.run(trace,
        new FixedKeepAlive(Duration.ofSeconds(Math.round(minutes * 60))), Simulator.UNBOUNDED);
    return bisect(run, 0, trace.lengthMillis() / 60_000.0, targetGbSeconds, null);
  }

  /** Idle memory grows with the knob: finds the knob whose result holds {@code target} GB-s. */
  private static Simulator.Result bisect(DoubleFunction<Simulator.Result> run, double low, double high,
      double target, Simulator.Result atHigh) {
    Simulator.Result best = atHigh;
    for (int step = 0; step < MAX_STEPS; step++) {
      double middle = (low + high) / 2;
      var result = run.apply(middle);
      if (best == null || Math.abs(result.idleGbSeconds() - target) < Math.abs(best.idleGbSeconds() - target)) {
        best = result;
      }
      if (Math.abs(result.idleGbSeconds() - target) <= target * MEMORY_TOLERANCE) {
        return result;
      }
      if (result.idleGbSeconds() > target) {
        high = middle;
      } else {
        low = middle;
      }
    }
    return best;
  }

  private static void describe(Trace trace) {
    long invocations = 0;
    int hourly = 0;
    int minutely = 0;
    var patterns = new EnumMap<TraceFunction.Pattern, Integer>(TraceFunction.Pattern.class);
    for (var function : trace.functions()) {
      var cursor = function.invocations().get();
      long count = 0;
      while (cursor.advance()) {
        count++;
      }
      invocations += count;
      double perHour = count * 3_600_000.0 / trace.lengthMillis();
      hourly += perHour <= 1 ? 1 : 0;
      minutely += perHour <= 60 ? 1 : 0;
      patterns.merge(function.pattern(), 1, Integer::sum);
    }
    int n = trace.functions().size();
    System.out.printf(Locale.ROOT, "Synthetic Azure-like trace: %d functions over %.1f days, %d invocations%n", n,
        trace.lengthMillis() / 86_400_000.0, invocations);
    System.out.printf(Locale.ROOT, "  invoked at most hourly: %.0f%%, at most once a minute: %.0f%%; patterns: %s%n",
        100.0 * hourly / n, 100.0 * minutely / n, patterns);
  }

  private static String percent(double share, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f%%", share * 100);
  }

  private static String ratio(double reference, double value) {
    if (value == 0) {
      return reference == 0 ? "1.0x" : "inf";
    }
    return String.format(Locale.ROOT, "%.1fx", reference / value);
  }
}
