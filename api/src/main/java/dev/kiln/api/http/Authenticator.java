package dev.kiln.api.http;

import dev.kiln.core.Credential;

/** Proves who sent a call, or throws the 403 KilnException Lambda would answer with. */
@FunctionalInterface
public interface Authenticator {
  Credential authenticate(ApiCall call);
}
