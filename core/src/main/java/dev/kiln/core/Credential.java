package dev.kiln.core;

/** An access key pair and the account it acts for. */
public record Credential(String accessKeyId, String secretAccessKey, String account) {
  @Override
  public String toString() {
    return "Credential[" + accessKeyId + " for " + account + "]";
  }
}
