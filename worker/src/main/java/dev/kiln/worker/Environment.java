package dev.kiln.worker;

import dev.kiln.core.FunctionVersion;
import dev.kiln.sandbox.Sandbox;
import dev.kiln.worker.runtimeapi.NextInvocation;
import dev.kiln.worker.runtimeapi.RuntimeApiHandler;
import dev.kiln.worker.runtimeapi.RuntimeApiServer;
import dev.kiln.worker.runtimeapi.RuntimeReply;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One execution environment: a sandbox running one function version's runtime, which pulls
 * invocations over its own Runtime API socket. Only the thread that took it from its pool may call
 * {@link #run}; the Runtime API and the sandbox's exit arrive on other threads and meet the
 * invocation in flight through {@link Pending}.
 */
final class Environment implements RuntimeApiHandler {
  /** Lambda gives on-demand initialization ten seconds before it counts against the invocation. */
  static final long INIT_LIMIT_MS = 10_000;
  /** The longest an invocation's log waits for the runtime's last lines to come through the pipe. */
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Environment.class);
  private static final java.time.Duration LOG_DRAIN_LIMIT = java.time.Duration.ofMillis(100);
  /** The mark is normally read within microseconds; this bound only matters when a handler broke stdout. */
  private static final java.time.Duration OUTPUT_MARK_LIMIT = java.time.Duration.ofSeconds(2);
  private static final int TAIL_BYTES = 4096;

  final FunctionKey key;
  final FunctionVersion version;
  private final Sandbox sandbox;
  private final WorkerStats stats;
  private final AtomicReference<EnvironmentState> state = new AtomicReference<>(EnvironmentState.CREATED);
  private final LinkedBlockingQueue<Pending> handoff = new LinkedBlockingQueue<>(1);
  private final CompletableFuture<Void> initialized = new CompletableFuture<>();
  private final List<String> initLog = new ArrayList<>();
  private final InvocationLogSink logs;
  /** Runs once when this environment is retired, however that happens. */
  private final Runnable onRetired;
  private volatile Pending current;
  private volatile Outcome initFailure;
  /** The invocation whose log receives output lines: set when it starts, cleared once its log is written. */
  private volatile Pending logTarget;
  private final String outputMark;
  /** Invocations whose end-of-output mark has not been read yet, oldest first. */
  private final java.util.concurrent.ConcurrentLinkedDeque<Pending> unmarked =
      new java.util.concurrent.ConcurrentLinkedDeque<>();
  private volatile RuntimeApiServer api;
  private volatile long launchedNanos;
  private volatile Double initDurationMs;
  private volatile boolean initReported;
  volatile long idleSinceNanos;
  /** When the reaper retires this environment if it is still idle (System.nanoTime), as its warming plan says. */
  volatile long keepUntilNanos;
  final long createdNanos = System.nanoTime();
  /** Set while an environment readied ahead of demand has not served yet, so its use or waste is counted. */
  private volatile FunctionWarming readiedFor;
  private volatile Readied readiedBy;
  /** The provisioned-concurrency configuration this environment is kept for, or null (on-demand). */
  volatile String provisionedFor;
  /** The only tenant this environment may serve (bound by its first invocation), or null. */
  volatile String tenant;
  /** A learned profile's training run recording this environment's sandbox, or null. */
  volatile SyscallProfiles.Training training;

  private void closeSandbox() {
    var t = training;
    if (t != null) t.finish(); // before the processes die: strace detaches from live ones
    sandbox.close();
  }

  /** Invocations started in this environment; none means it still holds exactly what init produced. */
  private volatile int invocations;

  /**
   * @param outputMark the line the runtime prints after an invocation's output and before its answer, or
   *     null for a runtime that prints none (a custom bootstrap): its log is then closed when the output
   *     pipe looks drained
   */
  Environment(FunctionKey key, FunctionVersion version, Sandbox sandbox, WorkerStats stats, InvocationLogSink logs,
      Runnable onRetired, String outputMark, boolean restored) {
    this.outputMark = outputMark;
    this.restored = restored;
    this.onRetired = onRetired;
    this.logs = logs;
    this.key = key;
    this.version = version;
    this.sandbox = sandbox;
    this.stats = stats;
    stats.transition(version, null, EnvironmentState.CREATED);
  }

  /** The longest a first invocation waits for init output still in the pipe. */
  private static final java.time.Duration INIT_OUTPUT_WAIT = java.time.Duration.ofMillis(200);
  private volatile long initializedNanos;
  /** Set once the first invocation has waited for init's output. */
  private volatile boolean initOutputSettled;

  /** Started from a start-up snapshot: its REPORT line says Restore Duration, as Lambda's SnapStart does. */
  private final boolean restored;

  EnvironmentState state() {
    return state.get();
  }

  /** Starts the runtime; the environment is INITIALIZING until the runtime first asks for work. */
  void start(dev.kiln.sandbox.Launch launch) throws IOException {
    api = RuntimeApiServer.start(sandbox.runtimeApiSocket(), this);
    move(EnvironmentState.CREATED, EnvironmentState.INITIALIZING);
    launchedNanos = System.nanoTime();
    sandbox.exited().thenAccept(this::onExit);
    sandbox.launch(launch, this::onOutput);
  }

  /**
   * Waits until the runtime has initialized (asked for its first event) and returns true, or false
   * if it failed or exceeded Lambda's init limit; the failure is kept for the invocation that waited.
   */
  boolean awaitReady() throws InterruptedException {
    try {
      initialized.get(INIT_LIMIT_MS, TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      failInit(new Outcome.EnvironmentFailure("Sandbox.Timedout",
          "Error: Init timed out after " + String.format("%.2f", INIT_LIMIT_MS / 1000.0) + " seconds", null));
      return false;
    } catch (ExecutionException e) {
      return false;
    }
  }

  /** Why initialization failed, for logs. */
  String initFailureDescription() {
    return String.valueOf(initFailure);
  }

  /** An environment initialized ahead of demand: its first invocation is warm, with no Init Duration. */
  void markPrewarmed() {
    initReported = true;
  }

  /** Why an environment was started before any invocation wanted it. */
  enum Readied {
    /** The warming policy expected an invocation. */
    BY_POLICY,
    /** A client announced load (a warm hint). */
    BY_HINT
  }

  /** Counts this environment's first invocation, or its retirement without one, against {@code warming}. */
  void readied(FunctionWarming warming, Readied how) {
    markPrewarmed();
    readiedBy = how;
    readiedFor = warming;
  }

  /** Called by the invocation that took this environment from its pool. */
  void taken() {
    var warming = readiedFor;
    if (warming != null) {
      readiedFor = null;
      warming.used(readiedBy);
    }
  }

  /** Runs one invocation to its end; afterwards {@link #reusable} says whether it may run another. */
  InvocationResult run(InvocationRequest request) throws InterruptedException {
    return run(request, null);
  }

  /**
   * Runs one invocation to its end, its log starting with {@code preface} (e.g. why this is another
   * attempt of the same request) when that is not null.
   */
  InvocationResult run(InvocationRequest request, String preface) throws InterruptedException {
    invocations++;
    var pending = new Pending(request, preface);
    boolean cold = !initReported;
    if (!awaitReady()) {
      return finish(pending, initFailure != null ? initFailure : new Outcome.EnvironmentFailure("Runtime.ExitError",
          "RequestId: " + request.requestId() + " Error: Runtime exited without providing a reason", null), cold);
    }
    if (!move(EnvironmentState.IDLE, EnvironmentState.BUSY)) {
      return finish(pending, new Outcome.EnvironmentFailure("Runtime.ExitError",
          "RequestId: " + request.requestId() + " Error: Runtime exited without providing a reason", null), cold);
    }
    if (!initOutputSettled) {
      // What init printed before asking for work may still be in the pipe: it belongs before START, not to
      // this invocation, which collects every line from now on.
      sandbox.awaitOutputDelivered(initializedNanos, INIT_OUTPUT_WAIT);
      initOutputSettled = true;
    }
    current = pending;
    logTarget = pending;
    if (outputMark != null) {
      unmarked.add(pending);
    }
    handoff.put(pending);
    long timeoutMs = version.timeout() * 1000L;
    Outcome outcome;
    try {
      // The runtime is blocked in GET /next, so dispatch is immediate unless it is busy dying.
      CompletableFuture.anyOf(pending.dispatched, pending.outcome).get(timeoutMs, TimeUnit.MILLISECONDS);
      long remaining = pending.deadlineMs == 0 ? 0 : pending.deadlineMs - System.currentTimeMillis();
      outcome = pending.outcome.get(Math.max(remaining, 0) + 5, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      var message = String.format("Task timed out after %.2f seconds", version.timeout() / 1.0);
      pending.outcome.complete(new Outcome.EnvironmentFailure("Sandbox.Timedout",
          "RequestId: " + request.requestId() + " Error: " + message,
          Instant.now() + " " + request.requestId() + " " + message));
      outcome = pending.outcome.join();
    } catch (ExecutionException e) {
      throw new IllegalStateException("invocation outcome failed", e);
    }
    current = null;
    return finish(pending, outcome, cold);
  }

  private void failInit(Outcome failure) {
    if (initFailure == null) {
      initFailure = failure;
    }
    initialized.completeExceptionally(new IllegalStateException("initialization failed"));
  }

  private InvocationResult finish(Pending pending, Outcome outcome, boolean cold) {
    var request = pending.request;
    double durationMs = pending.dispatchedNanos == 0 ? 0 : (System.nanoTime() - pending.dispatchedNanos) / 1e6;
    Double init = cold && !initReported ? initDurationMs : null;
    if (cold) {
      initReported = true;
    }
    String logTail = null;
    if (request.tailLogs()) {
      // The caller wants the log in the response: wait for the last lines now.
      awaitOutput(pending, outcome);
      var lines = logLines(pending, outcome, durationMs, init);
      logTarget = null;
      logs.write(version, request.requestId(), lines);
      logTail = tail(lines);
    } else {
      // Lines printed just before the response may still be in the pipe: collect them off the request path.
      Thread.ofVirtual().start(() -> {
        awaitOutput(pending, outcome);
        var lines = logLines(pending, outcome, durationMs, init);
        if (logTarget == pending) {
          logTarget = null;
        }
        logs.write(version, request.requestId(), lines);
      });
    }
    return switch (outcome) {
      case Outcome.Response response -> {
        idleAfterUse();
        yield new InvocationResult(response.body(), null, logTail, version.version(), durationMs, init);
      }
      case Outcome.FunctionError error -> {
        // An init error leaves the runtime unusable; a handler error does not.
        if (initialized.isCompletedExceptionally() || state.get() != EnvironmentState.BUSY) {
          retire();
        } else {
          idleAfterUse();
        }
        yield new InvocationResult(error.body(), "Unhandled", logTail, version.version(), durationMs, init);
      }
      case Outcome.EnvironmentFailure failure -> {
        retire();
        var body = ("{\"errorType\":\"" + failure.errorType() + "\",\"errorMessage\":\""
            + failure.message().replace("\"", "\\\"") + "\"}").getBytes(StandardCharsets.UTF_8);
        yield new InvocationResult(body, "Unhandled", logTail, version.version(), durationMs, init);
      }
    };
  }

  private void idleAfterUse() {
    if (move(EnvironmentState.BUSY, EnvironmentState.IDLE) || state.get() == EnvironmentState.IDLE) {
      idleSinceNanos = System.nanoTime();
    }
  }

  boolean reusable() {
    return state.get() == EnvironmentState.IDLE;
  }

  /** Whether no invocation ever ran here: its state is exactly what the function's init produced. */
  boolean fresh() {
    return invocations == 0;
  }

  /** Memory charged to the sandbox now (processes and /tmp), in bytes; -1 when the backend cannot tell. */
  long currentMemoryBytes() {
    return sandbox.currentMemoryBytes();
  }

  /** Stops an idle environment's processes from using CPU; {@link #thaw} before use. */
  boolean freeze() {
    if (!move(EnvironmentState.IDLE, EnvironmentState.FROZEN)) {
      return false;
    }
    sandbox.freeze();
    return true;
  }

  void thaw() {
    if (state.get() == EnvironmentState.FROZEN) {
      sandbox.thaw();
      move(EnvironmentState.FROZEN, EnvironmentState.IDLE);
    }
  }

  void retire() {
    var previous = state.getAndSet(EnvironmentState.RETIRED);
    if (previous == EnvironmentState.RETIRED) {
      return;
    }
    stats.transition(version, previous, EnvironmentState.RETIRED);
    onRetired.run();
    var unused = readiedFor;
    if (unused != null) {
      readiedFor = null;
      unused.wasted(readiedBy);
    }
    var pending = current;
    if (pending != null) {
      pending.outcome.complete(new Outcome.EnvironmentFailure("Runtime.ExitError",
          "RequestId: " + pending.request.requestId() + " Error: Runtime exited without providing a reason", null));
    }
    if (api != null) {
      api.close();
    }
    closeSandbox();
  }

  // ---- Runtime API -------------------------------------------------------------------------

  /** An invocation is dispatched and not answered yet: another GET /next is a stray call. */
  private boolean inFlight() {
    var pending = current;
    return pending != null && pending.dispatched.isDone() && !pending.outcome.isDone();
  }

  @Override
  public void undelivered(NextInvocation next) {
    var pending = current;
    if (pending != null && pending.request.requestId().equals(next.requestId()) && !pending.outcome.isDone()) {
      // The connection that asked died before it got the event: hand it to the next GET /next.
      pending.dispatched = new CompletableFuture<>();
      handoff.offer(pending);
    }
  }

  @Override
  public NextInvocation next() throws InterruptedException {
    if (inFlight()) {
      return null;
    }
    if (!initialized.isDone()) {
      initializedNanos = System.nanoTime();
      initDurationMs = (initializedNanos - launchedNanos) / 1e6;
      idleSinceNanos = System.nanoTime();
      move(EnvironmentState.INITIALIZING, EnvironmentState.IDLE);
      initialized.complete(null);
    }
    var pending = handoff.take();
    long now = System.currentTimeMillis();
    pending.deadlineMs = now + version.timeout() * 1000L;
    pending.dispatchedNanos = System.nanoTime();
    pending.dispatched.complete(null);
    var request = pending.request;
    return new NextInvocation(request.requestId(), pending.deadlineMs, request.invokedFunctionArn(), traceId(now),
        request.clientContext(), null, request.payload());
  }

  @Override
  public RuntimeReply response(String requestId, long length, BodyReader body) throws IOException {
    var pending = inFlight(requestId);
    if (pending == null) {
      return invalidRequestId(requestId);
    }
    if (length > RuntimeApiServer.MAX_RESPONSE_BYTES) {
      pending.outcome.complete(new Outcome.FunctionError("Function.ResponseSizeTooLarge",
          ("{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size ("
              + RuntimeApiServer.MAX_RESPONSE_BYTES + " bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}")
              .getBytes(StandardCharsets.UTF_8)));
      return RuntimeReply.error(413, "RequestEntityTooLarge", "Response payload size exceeded maximum allowed payload size ("
          + RuntimeApiServer.MAX_RESPONSE_BYTES + " bytes).");
    }
    var bytes = body.read(RuntimeApiServer.MAX_RESPONSE_BYTES);
    pending.outcome.complete(new Outcome.Response(bytes == null ? new byte[0] : bytes));
    return RuntimeReply.ACCEPTED;
  }

  @Override
  public RuntimeReply streamingResponse(String requestId, ChunkReader chunks) throws IOException {
    var pending = inFlight(requestId);
    if (pending == null) {
      return invalidRequestId(requestId);
    }
    var stream = pending.request.stream();
    if (stream != null) {
      stream.contentType(chunks.contentType());
    }
    var buffered = new ByteArrayOutputStream();
    for (var chunk = chunks.next(); chunk != null; chunk = chunks.next()) {
      if (stream != null) {
        stream.chunk(chunk);
      } else if (buffered.size() + chunk.length <= RuntimeApiServer.MAX_RESPONSE_BYTES) {
        buffered.write(chunk);
      }
    }
    var errorType = chunks.trailer("Lambda-Runtime-Function-Error-Type");
    if (errorType != null) {
      var encoded = chunks.trailer("Lambda-Runtime-Function-Error-Body");
      byte[] errorBody;
      try {
        errorBody = encoded == null ? new byte[0] : Base64.getDecoder().decode(encoded);
      } catch (IllegalArgumentException e) {
        errorBody = encoded.getBytes(StandardCharsets.UTF_8);
      }
      pending.outcome.complete(new Outcome.FunctionError(errorType, errorBody));
    } else {
      pending.outcome.complete(new Outcome.Response(buffered.toByteArray()));
    }
    return RuntimeReply.ACCEPTED;
  }

  @Override
  public RuntimeReply error(String requestId, String errorType, byte[] body) {
    var pending = inFlight(requestId);
    if (pending == null) {
      return invalidRequestId(requestId);
    }
    pending.outcome.complete(new Outcome.FunctionError(errorType, body));
    return RuntimeReply.ACCEPTED;
  }

  @Override
  public RuntimeReply initError(String errorType, byte[] body) {
    failInit(new Outcome.FunctionError(errorType, body));
    return RuntimeReply.ACCEPTED;
  }

  private Pending inFlight(String requestId) {
    var pending = current;
    return pending != null && pending.request.requestId().equals(requestId) && !pending.outcome.isDone()
        ? pending : null;
  }

  private static RuntimeReply invalidRequestId(String requestId) {
    return RuntimeReply.error(400, "InvalidRequestID", "Invalid request ID: " + requestId);
  }

  // ---- process events ----------------------------------------------------------------------

  private void onExit(Sandbox.Exit exit) {
    var reason = exit.oomKilled() ? "signal: killed" : exit.code() > 128 ? "signal: " + signalName(exit.code() - 128)
        : "exit status " + exit.code();
    var type = exit.oomKilled() ? "Runtime.OutOfMemory" : "Runtime.ExitError";
    var denied = exit.oomKilled() ? java.util.Optional.<String>empty() : sandbox.deniedSyscall();
    if (denied.isPresent()) {
      type = "Runtime.SyscallDenied";
      reason = "system call " + denied.get() + " is not in the function's learned profile ("
          + dev.kiln.core.SyscallProfileMode.VARIABLE + "=enforce), so the sandbox was killed";
    }
    failInit(new Outcome.EnvironmentFailure(type, "Error: Runtime exited with error: " + reason, null));
    var pending = current;
    if (pending != null) {
      pending.outcome.complete(new Outcome.EnvironmentFailure(type,
          "RequestId: " + pending.request.requestId() + " Error: Runtime exited with error: " + reason, null));
    }
    if (state.get() != EnvironmentState.BUSY) {
      retire();
    } else {
      var previous = state.getAndSet(EnvironmentState.RETIRED);
      if (previous == EnvironmentState.RETIRED) {
        return;
      }
      stats.transition(version, previous, EnvironmentState.RETIRED);
      onRetired.run();
      if (api != null) {
        api.close();
      }
      closeSandbox();
    }
  }

  private static String signalName(int signal) {
    return switch (signal) {
      case 9 -> "killed";
      case 11 -> "segmentation fault";
      case 6 -> "aborted";
      case 15 -> "terminated";
      default -> Integer.toString(signal);
    };
  }

  private void onOutput(String line) {
    if (outputMark != null) {
      // The pipe keeps the runtime's order: an invocation's lines, its mark, the next one's lines, its
      // mark. So a line belongs to the oldest invocation whose mark has not been read yet, even when
      // the next invocation has already started because the pump fell behind.
      var owner = unmarked.peek();
      if (line.endsWith(outputMark)) {
        // Output without a final newline arrives glued to the mark.
        String rest = line.substring(0, line.length() - outputMark.length());
        if (owner != null) {
          if (!rest.isEmpty()) {
            owner.appendLog(rest);
          }
          unmarked.remove(owner);
          owner.outputComplete.complete(null);
        }
        return;
      }
      if (owner != null) {
        owner.appendLog(line);
        return;
      }
    } else {
      var pending = logTarget;
      if (pending != null) {
        pending.appendLog(line);
        return;
      }
    }
    synchronized (initLog) {
      if (initLog.size() < 1000) {
        initLog.add(line);
      }
    }
  }

  /** The invocation's log as Lambda writes it: init output, START, the function's lines, END, REPORT. */
  private List<String> logLines(Pending pending, Outcome outcome, double durationMs, Double init) {
    var lines = new ArrayList<String>();
    if (pending.preface != null) {
      lines.add(pending.preface);
    }
    synchronized (initLog) {
      lines.addAll(initLog);
      initLog.clear();
    }
    var id = pending.request.requestId();
    lines.add("START RequestId: " + id + " Version: " + version.version());
    lines.addAll(pending.log());
    if (outcome instanceof Outcome.EnvironmentFailure failure && failure.logLine() != null) {
      lines.add(failure.logLine());
    }
    lines.add("END RequestId: " + id);
    long maxMemoryMb = Math.max(1, sandbox.peakMemoryBytes() / (1024 * 1024));
    var report = new StringBuilder(String.format("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\t"
        + "Memory Size: %d MB\tMax Memory Used: %d MB\t", id, durationMs, (long) Math.ceil(Math.max(durationMs, 1)),
        version.memorySize(), maxMemoryMb));
    if (init != null) {
      report.append(String.format(restored ? "Restore Duration: %.2f ms\t" : "Init Duration: %.2f ms\t", init));
    }
    lines.add(report.toString());
    return lines;
  }

  /**
   * Waits until everything the function printed before its answer has been read. A runtime that marks the
   * end of its output answered only after printing the mark, so the mark settles it; otherwise (a custom
   * runtime, or no answer at all: a crash, a timeout) the sandbox judges from the pipe.
   */
  private void awaitOutput(Pending pending, Outcome outcome) {
    if (outputMark != null && !(outcome instanceof Outcome.EnvironmentFailure)) {
      try {
        pending.outputComplete.get(OUTPUT_MARK_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        return;
      } catch (TimeoutException | ExecutionException e) {
        log.debug("no end-of-output mark from {} within {}", version.functionName(), OUTPUT_MARK_LIMIT);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        unmarked.remove(pending);
        return;
      }
    }
    sandbox.awaitOutputDelivered(answeredAt(pending), LOG_DRAIN_LIMIT);
    // A mark that never came must not make the next invocations' lines look like this one's.
    unmarked.remove(pending);
  }

  /** When the runtime answered, or now when it never did (init failure, crash): output before that is due. */
  private static long answeredAt(Pending pending) {
    long completed = pending.completedNanos;
    return completed != 0 ? completed : System.nanoTime();
  }

  /** The last 4 KB of the log, as X-Amz-Log-Result carries it. */
  private static String tail(List<String> lines) {
    var text = String.join("\n", lines) + "\n";
    var bytes = text.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= TAIL_BYTES) {
      return text;
    }
    return new String(bytes, bytes.length - TAIL_BYTES, TAIL_BYTES, StandardCharsets.UTF_8);
  }

  private static String traceId(long nowMs) {
    var random = new byte[12];
    ThreadLocalRandom.current().nextBytes(random);
    return "Root=1-" + Long.toHexString(nowMs / 1000) + "-" + HexFormat.of().formatHex(random) + ";Sampled=0";
  }

  private boolean move(EnvironmentState from, EnvironmentState to) {
    if (state.compareAndSet(from, to)) {
      stats.transition(version, from, to);
      return true;
    }
    return false;
  }

  /** One invocation in flight in this environment. */
  private static final class Pending {
    final InvocationRequest request;
    final String preface;
    volatile CompletableFuture<Void> dispatched = new CompletableFuture<>();
    final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    /** Completed when the runtime's end-of-output mark for this invocation was read. */
    final CompletableFuture<Void> outputComplete = new CompletableFuture<>();
    /** When the runtime answered: everything it printed before is in the pipe by then. */
    volatile long completedNanos;
    private final List<String> log = new ArrayList<>();
    private int logBytes;
    volatile long deadlineMs;
    volatile long dispatchedNanos;

    Pending(InvocationRequest request, String preface) {
      this.request = request;
      this.preface = preface;
      outcome.thenRun(() -> completedNanos = System.nanoTime());
    }

    /** Keeps up to 256 KB of an invocation's output; a runaway logger cannot exhaust memory. */
    synchronized void appendLog(String line) {
      if (logBytes < 256 * 1024) {
        log.add(line);
        logBytes += line.length() + 1;
      }
    }

    synchronized List<String> log() {
      return List.copyOf(log);
    }
  }
}
