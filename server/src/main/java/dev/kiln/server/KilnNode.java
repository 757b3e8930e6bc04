package dev.kiln.server;

import dev.kiln.api.ApiServer;
import dev.kiln.api.ApiSettings;
import dev.kiln.api.auth.SignedRequest;
import dev.kiln.api.auth.SigV4Verifier;
import dev.kiln.api.http.Authenticator;
import dev.kiln.control.ControlPlane;
import dev.kiln.core.Credential;
import dev.kiln.store.CodeStore;
import dev.kiln.store.MetadataStore;
import dev.kiln.store.Stores;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One running Kiln node: store, control plane and HTTP front end, wired in that order and closed in reverse. */
public final class KilnNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KilnNode.class);

  private final MetadataStore store;
  private final BackgroundActivation activation;
  private final ApiServer api;
  private final Credential defaultCredential;

  private KilnNode(MetadataStore store, BackgroundActivation activation, ApiServer api, Credential credential) {
    this.store = store;
    this.activation = activation;
    this.api = api;
    this.defaultCredential = credential;
  }

  public static KilnNode start(KilnConfig config) throws IOException {
    if (config.devCredentials() && !InetAddress.getByName(config.host()).isLoopbackAddress()) {
      throw new IllegalArgumentException("--dev-credentials is only allowed on a loopback address (127.0.0.1), "
          + "because anyone could use the well-known key test/test. Bind to 127.0.0.1 or drop the flag.");
    }
    Files.createDirectories(config.dataDir());
    var clock = Clock.systemUTC();
    var store = Stores.open(config.store());
    try {
      var codeStore = new CodeStore(config.dataDir().resolve("code"));
      var activation = new BackgroundActivation();
      var control = new ControlPlane(store, codeStore, config.region(), clock, activation);
      activation.attach(control);
      var credential = AccountBootstrap.ensureDefault(store);
      AccountBootstrap.writeCredentialsFile(config.dataDir(), credential, config.region().name());
      var verifier = new SigV4Verifier(AccountBootstrap.lookup(store, config.devCredentials()), clock);
      Authenticator authenticator = call -> verifier.verify(SignedRequest.withBody(
          call.method(), call.rawPath(), call.rawQuery(), call.headersIgnoringCase(), call.body()));
      var settings = new ApiSettings(config.host(), config.port(), AccountBootstrap.codeLinkKey(config.dataDir()),
          config.accountConcurrency());
      var api = ApiServer.start(settings, control, authenticator, clock);
      // Changes accepted before a crash but not yet activated finish now.
      control.versionsAwaitingActivation().forEach(activation::activate);
      log.info("node started store={} port={}", store.describe(), api.port());
      return new KilnNode(store, activation, api, credential);
    } catch (RuntimeException | IOException e) {
      store.close();
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

  @Override
  public void close() {
    api.close();
    try {
      activation.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    store.close();
  }
}
