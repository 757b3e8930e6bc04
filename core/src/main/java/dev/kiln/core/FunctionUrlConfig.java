package dev.kiln.core;

import java.time.Instant;
import java.util.List;

/**
 * A function URL: a dedicated HTTP endpoint that invokes a function's $LATEST or one of its
 * aliases.
 *
 * @param qualifier the alias the URL invokes, or {@link #UNQUALIFIED} for the function itself
 * @param urlId the 32 lower-case letters and digits that name the URL's host; fixed for the
 *     configuration's life
 * @param cors null when no CORS configuration was given
 * @param invokeMode null when never set; the URL then buffers, as Lambda's default
 */
public record FunctionUrlConfig(
    String account,
    String functionName,
    String qualifier,
    String urlId,
    AuthType authType,
    Cors cors,
    InvokeMode invokeMode,
    Instant creationTime,
    Instant lastModifiedTime) {

  /** The qualifier under which a function's own (unqualified) URL is kept. */
  public static final String UNQUALIFIED = FunctionVersion.LATEST;

  /** Who may call the URL: anyone, or only SigV4-signed requests of the owning account. */
  public enum AuthType {
    NONE,
    AWS_IAM
  }

  /** Whether the response reaches the client whole or as the function writes it. */
  public enum InvokeMode {
    BUFFERED,
    RESPONSE_STREAM
  }

  /** Lambda's CORS settings; a member left out of the request is null. */
  public record Cors(
      Boolean allowCredentials,
      List<String> allowHeaders,
      List<String> allowMethods,
      List<String> allowOrigins,
      List<String> exposeHeaders,
      Integer maxAge) {
    public Cors {
      allowHeaders = allowHeaders == null ? null : List.copyOf(allowHeaders);
      allowMethods = allowMethods == null ? null : List.copyOf(allowMethods);
      allowOrigins = allowOrigins == null ? null : List.copyOf(allowOrigins);
      exposeHeaders = exposeHeaders == null ? null : List.copyOf(exposeHeaders);
    }
  }

  public boolean unqualified() {
    return UNQUALIFIED.equals(qualifier);
  }

  /** The mode the URL serves in: BUFFERED unless RESPONSE_STREAM was chosen. */
  public InvokeMode effectiveInvokeMode() {
    return invokeMode == null ? InvokeMode.BUFFERED : invokeMode;
  }

  public FunctionUrlConfig withChanges(AuthType authType, Cors cors, InvokeMode invokeMode, Instant modified) {
    return new FunctionUrlConfig(account, functionName, qualifier, urlId, authType, cors, invokeMode, creationTime,
        modified);
  }
}
