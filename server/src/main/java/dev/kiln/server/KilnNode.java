package dev.kiln.server;

import dev.kiln.admission.Admission;
import dev.kiln.admission.AdmissionSettings;
import dev.kiln.api.ApiServer;
import dev.kiln.api.ApiSettings;
import dev.kiln.api.FunctionUrlConfigRoutes;
import dev.kiln.api.FunctionUrlRoutes;
import dev.kiln.api.auth.SigV4Verifier;
import dev.kiln.api.auth.SignedRequest;
import dev.kiln.api.http.Authenticator;
import dev.kiln.control.ControlPlane;
import dev.kiln.control.EventInvokeConfigs;
import dev.kiln.control.EventSourceMappings;
import dev.kiln.control.FunctionUrls;
import dev.kiln.control.Schedules;
import dev.kiln.core.Credential;
import dev.kiln.invoke.Invoker;
import dev.kiln.invoke.QueueSender;
import dev.kiln.invoke.async.AsyncInvocations;
import dev.kiln.invoke.async.AsyncSettings;
import dev.kiln.runtimes.RuntimeCatalog;
import dev.kiln.sandbox.SandboxBackends;
import dev.kiln.schedules.AsyncInvokeTarget;
import dev.kiln.schedules.Scheduler;
import dev.kiln.sources.FunctionCaller;
import dev.kiln.sources.PollerManager;
import dev.kiln.sources.sqs.SqsClients;
import dev.kiln.sources.sqs.SqsQueueSender;
import dev.kiln.store.CodeStore;
import dev.kiln.store.LogStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.Stores;
import dev.kiln.warming.WarmingPolicy;
import dev.kiln.worker.CodeCache;
import dev.kiln.worker.Worker;
import dev.kiln.worker.WorkerSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Kiln node: store, worker, control plane and HTTP front end, started in dependency
 * order and closed in reverse.
 */
public final class KilnNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KilnNode.class);

  /** Started in dependency order; closed in reverse. */
  private final List<AutoCloseable> resources;
  private final ApiServer api;
  private final MetadataStore store;
  private final Credential defaultCredential;
  private final String sandboxBackend;

  private KilnNode(List<AutoCloseable> resources, ApiServer api, MetadataStore store, Credential credential,
      String sandboxBackend) {
    this.resources = resources;
    this.api = api;
    this.store = store;
    this.defaultCredential = credential;
    this.sandboxBackend = sandboxBackend;
  }

  public static KilnNode start(KilnConfig config) throws IOException {
    if (config.devCredentials() && !InetAddress.getByName(config.host()).isLoopbackAddress()) {
      throw new IllegalArgumentException("--dev-credentials is only allowed on a loopback address (127.0.0.1), "
          + "because anyone could use the well-known key test/test. Bind to 127.0.0.1 or drop the flag.");
    }
    var data = config.dataDir();
    // Other local users reach nothing in it: the database, secrets, code, logs and snapshots of every account.
    dev.kiln.core.PrivateFiles.directory(data);
    var clock = Clock.systemUTC();
    var resources = new ArrayList<AutoCloseable>();
    var phases = new StartupPhases();
    try {
      var store = Stores.open(config.store());
      resources.add(store);
      phases.done("store");
      var codeStore = new CodeStore(data.resolve("code"));
      var logStore = new LogStore(data.resolve("logs"));
      resources.add(logStore);
      // Trees of packages no version uses any more are removed (now, and after each delete or code update).
      var codeCache = new CodeCache(data.resolve("cache").resolve("code"), sha -> codeStore.file(sha)
          .orElseThrow(() -> new IllegalStateException("code package " + sha + " is missing from the code store")),
          sha -> store.read(tx -> tx.codeInUse(sha)), dev.kiln.core.Limits.MAX_UNZIPPED_BYTES);

      // Reservations are read from the store the first time an account is seen.
      var controlForAdmission = new java.util.concurrent.atomic.AtomicReference<ControlPlane>();
      var admissionSettings = AdmissionSettings.of(config.accountConcurrency(), config.scalingBurst(),
          config.scalingRate());
      var admission = config.admissionBypassed()
          ? Admission.bypassed(admissionSettings)
          : new Admission(admissionSettings, System::nanoTime,
              account -> controlForAdmission.get().reservations(account));
      if (config.admissionBypassed()) {
        log.warn("admission is bypassed (--bench-bypass-admission): no concurrency limits, no throttling");
      }
      var runtimes = RuntimeCatalog.install(data.resolve("runtime"));
      phases.done("runtimes");
      if (config.seccomp() == dev.kiln.sandbox.SeccompMode.OFF) {
        log.warn("system call filtering is off (--seccomp off): functions can make user namespaces, mount file"
            + " systems, use io_uring, keyrings, bpf and ptrace; the kernel's whole surface is open to them");
      }
      var backend = SandboxBackends.detect(data.resolve("sandboxes"), data.resolve("runtime"), config.seccomp(),
          config.dnsUpstreams());
      // Closed with the node, or at once if the start fails from here on: it holds host state (cgroups, a
      // network table, veths). The worker closes it too; closing twice is harmless.
      resources.add(backend);
      if (config.port() != 0) {
        backend.protectHostPort(config.port()); // no function reaches Kiln's API, whatever its policy lists
      }
      phases.done("sandbox backend");
      var worker = new Worker(new WorkerSettings(config.region().name(), config.keepAlive(), Duration.ofSeconds(1),
          config.prewarmedSandboxes(), WorkerSettings.defaultMemoryBudgetMb()), backend, runtimes, codeCache,
          (version, requestId, lines) -> logStore.append(version.account(), version.functionName(), requestId,
              System.currentTimeMillis(), lines),
          version -> admission.admitNewEnvironment(version.account(), version.functionName()),
          WarmingPolicy.named(config.warming(), config.keepAlive()),
          version -> admission.admitSpareNewEnvironment(version.account(), version.functionName()));
      resources.add(worker);
      worker.setNetworkDefault(config.network());
      worker.enableSyscallProfiles(data.resolve("seccomp-profiles"));
      if (config.snapshots()) {
        worker.enableSnapshots(data.resolve("snapshots"),
            (account, function) -> store.read(tx -> tx.function(account, function).isPresent()));
      }
      var invoker = new Invoker(worker, admission);
      phases.done("worker");

      // Pending / InProgress mean "being prepared": code extracted, replacement environments warmed.
      var activation = new BackgroundActivation(worker);
      resources.add(activation);
      var control = new ControlPlane(store, codeStore, config.region(), clock, activation);
      activation.attach(control);
      controlForAdmission.set(control);

      // Batch jobs run on this node; closed before the invoker, so the items in flight get recorded.
      var batches = new dev.kiln.control.Batches(store, control, clock);
      var batchRunner = new dev.kiln.batch.BatchRunner(store, control, invoker, clock);
      resources.add(batchRunner);
      // Event-source pollers invoke through the same path as Invoke; they start once the API is up.
      var sqsClients = new SqsClients(config.sqsEndpoints());
      resources.add(sqsClients);
      var mappings = new EventSourceMappings(store, control, clock);
      var pollers = new PollerManager(mappings, new FunctionCaller(control, invoker), sqsClients);
      resources.add(pollers);

      var credential = AccountBootstrap.ensureDefault(store);
      AccountBootstrap.writeCredentialsFile(data, credential, config.region().name());
      var verifier = new SigV4Verifier(AccountBootstrap.lookup(store, config.devCredentials()), clock);
      Authenticator authenticator = call -> verifier.verify(SignedRequest.withBody(
          call.method(), call.rawPath(), call.rawQuery(), call.headersIgnoringCase(), call.body()));
      phases.done("credentials");

      // Queue destinations and dead-letter queues of asynchronous invocations; none without queue endpoints.
      QueueSender queues = config.sqsEndpoints().isEmpty() ? null : new SqsQueueSender(sqsClients);
      var eventConfigs = new EventInvokeConfigs(store, control, clock, queues != null);
      var async = new AsyncInvocations(store, control, eventConfigs, invoker, queues,
          AsyncSettings.withRetryBase(config.asyncRetryBase()), NodeIdentity.of(data), clock);
      resources.add(async);
      async.start();
      phases.done("async queue");
      // Schedules run as asynchronous invocations through the durable queue; the scheduler starts once
      // everything it uses is up.
      var scheduler = new Scheduler(store, new AsyncInvokeTarget(async), clock, config.region());
      var schedules = new Schedules(store, control, clock, scheduler::wake);
      var settings = new ApiSettings(config.host(), config.port(), AccountBootstrap.codeLinkKey(data),
          config.accountConcurrency());
      var functionUrls = new FunctionUrls(store, config.region(), clock);
      // Function URLs name the port actually bound, which --port 0 leaves to the system.
      var apiPort = new AtomicInteger(config.port());
      var api = ApiServer.start(settings, authenticator, List.of(
          ApiServer.controlPlane(settings, control, clock, (account, function) -> {
            admission.forget(account, function);
            invoker.forgetFunction(account, function);
            batchRunner.forgetFunction(account, function);
            // Its mappings went with it (ON DELETE CASCADE); their pollers stop now.
            pollers.reconcileSoon();
            async.forgetFunction(account, function);
            worker.syscallProfiles().forget(account, function);
          }),
          ApiServer.eventSourceMappings(mappings, pollers::reconcileSoon),
          ApiServer.concurrency(control, admission, invoker),
          ApiServer.invoke(control, invoker, async),
          ApiServer.eventInvokeConfigs(eventConfigs),
          ApiServer.logs(control, logStore),
          ApiServer.stats(invoker),
          ApiServer.schedules(schedules),
          ApiServer.batches(batches, batchRunner, control),
          ApiServer.warming(control, invoker, worker),
          ApiServer.syscallProfiles(control, worker),
          new FunctionUrlConfigRoutes(functionUrls, apiPort::get)::register),
          List.of(new FunctionUrlRoutes(functionUrls, control, invoker, authenticator, clock)));
      apiPort.set(api.port());
      backend.protectHostPort(api.port());
      resources.add(api);
      phases.done("http");

      // Provisioned environments come back after a restart, as they were configured.
      for (var target : control.allProvisionedConcurrency()) {
        if (worker.supports(target.version().runtime())) {
          invoker.provision(target.key(), target.version(), target.config().requested());
        }
      }
      // Changes accepted before a crash but not yet activated finish now.
      control.versionsAwaitingActivation().forEach(activation::activate);
      scheduler.start();
      resources.add(scheduler);
      // Batch jobs that were running go on where their checkpoint says.
      batchRunner.resumeAfterRestart();
      pollers.start();
      log.info("node started store={} sandboxes={} port={} phases={}", store.describe(), backend.name(), api.port(),
          phases);
      return new KilnNode(resources, api, store, credential, backend.name());
    } catch (RuntimeException | IOException e) {
      closeAll(resources);
      throw e;
    }
  }

  public int port() {
    return api.port();
  }

  public Credential defaultCredential() {
    return defaultCredential;
  }

  public String storeDescription() {
    return store.describe();
  }

  public String sandboxBackend() {
    return sandboxBackend;
  }

  @Override
  public void close() {
    closeAll(resources);
  }

  /** Milliseconds each start-up phase took, for the start-up log line. */
  private static final class StartupPhases {
    private final StringBuilder text = new StringBuilder();
    private long last = System.nanoTime();

    void done(String phase) {
      long now = System.nanoTime();
      text.append(text.isEmpty() ? "" : ",").append(phase).append('=').append((now - last) / 1_000_000).append("ms");
      last = now;
    }

    @Override
    public String toString() {
      return text.toString();
    }
  }

  private static void closeAll(List<AutoCloseable> resources) {
    for (var resource : resources.reversed()) {
      try {
        resource.close();
      } catch (Exception e) {
        log.warn("closing {} failed: {}", resource.getClass().getSimpleName(), e.toString());
      }
    }
  }
}
