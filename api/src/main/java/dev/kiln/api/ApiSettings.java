package dev.kiln.api;

/**
 * How the HTTP front end listens.
 *
 * @param codeLinkKey secret that signs code download links; keep it stable across restarts so issued links stay valid
 */
public record ApiSettings(String host, int port, byte[] codeLinkKey, int accountConcurrency) {
  public ApiSettings {
    codeLinkKey = codeLinkKey.clone();
  }
}
