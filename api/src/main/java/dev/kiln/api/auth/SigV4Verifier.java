package dev.kiln.api.auth;

import dev.kiln.core.Credential;
import dev.kiln.core.ErrorCode;
import dev.kiln.core.KilnException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies AWS Signature Version 4 ({@code AWS4-HMAC-SHA256}) signatures on Lambda API requests, as
 * sent by the AWS CLI, botocore and the AWS SDKs.
 *
 * <p>Both ways of carrying a signature are accepted: the {@code Authorization} header, and
 * query-string authentication (a presigned URL: {@code X-Amz-Algorithm}, {@code X-Amz-Credential},
 * {@code X-Amz-Date}, {@code X-Amz-Expires}, {@code X-Amz-SignedHeaders}, {@code X-Amz-Signature}).
 *
 * <p>The canonical request is rebuilt from the request as received, following what botocore and the
 * AWS SDK for Java v2 sign for a non-S3 service:
 *
 * <ul>
 *   <li>canonical URI: the wire path with every byte outside {@code A-Z a-z 0-9 - _ . ~ /}
 *       percent-encoded once more ("double encoding": {@code %3A} on the wire becomes {@code
 *       %253A}); an empty path is {@code /}; dot segments and repeated slashes are left alone, so
 *       the signature covers exactly the path that is routed;
 *   <li>canonical query: each name and value decoded from the wire and re-encoded with the RFC 3986
 *       unreserved set, pairs sorted by name then value, repeated names kept, a name without {@code
 *       =} given an empty value, and a raw {@code +} read as a space, as the HTTP layer decodes it
 *       (so the signature covers the values the application will see);
 *   <li>canonical headers: the SignedHeaders, lower-cased, values trimmed with inner runs of white
 *       space collapsed, repeated header lines joined by {@code ,}; {@code host} must be signed;
 *   <li>payload hash: always the digest of the body actually received; a {@code
 *       x-amz-content-sha256} header, when present, must equal it.
 * </ul>
 *
 * <p>The credential scope must name the service {@code lambda} and the date of the request's {@code
 * X-Amz-Date} (or {@code Date}) header; any region is accepted and used as given. A request signed
 * more than 15 minutes before or after the clock's time is refused, as AWS does.
 *
 * <p>Instances are thread-safe. Derived signing keys are cached per (access key, secret, date,
 * region) in a small bounded map, since one key signs many requests.
 */
public final class SigV4Verifier {
  /** The only signing algorithm accepted. */
  public static final String ALGORITHM = "AWS4-HMAC-SHA256";

  /** The service name every credential scope must carry. */
  public static final String SERVICE = "lambda";

  /** How far a request's signing time may be from the clock, either way. */
  public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(15);

  /** The longest validity a presigned request may ask for (seven days, as AWS allows). */
  public static final int MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

  static final String MISSING_TOKEN = "Missing Authentication Token";
  static final String INVALID_TOKEN = "The security token included in the request is invalid.";
  static final String SIGNATURE_MISMATCH =
      "The request signature we calculated does not match the signature you provided. Check your"
          + " AWS Secret Access Key and signing method. Consult the service documentation for"
          + " details.";
  static final String CONTENT_SHA256_MISMATCH =
      "The provided 'x-amz-content-sha256' header does not match what was computed.";

  /** Bound on cached signing keys; the cache is emptied when it is reached (rare, cheap). */
  static final int SIGNING_KEY_CACHE_LIMIT = 1024;

  private static final Logger LOG = LoggerFactory.getLogger(SigV4Verifier.class);
  private static final String HMAC_SHA256 = "HmacSHA256";
  private static final String TERMINATOR = "aws4_request";
  private static final long MAX_SKEW_SECONDS = MAX_CLOCK_SKEW.toSeconds();
  private static final HexFormat HEX = HexFormat.of();
  private static final char[] UPPER_HEX = "0123456789ABCDEF".toCharArray();
  private static final DateTimeFormatter BASIC_ISO =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final Comparator<String[]> PAIR_ORDER =
      (a, b) -> {
        int byName = a[0].compareTo(b[0]);
        return byName != 0 ? byName : a[1].compareTo(b[1]);
      };

  private static final String Q_ALGORITHM = "X-Amz-Algorithm";
  private static final String Q_CREDENTIAL = "X-Amz-Credential";
  private static final String Q_DATE = "X-Amz-Date";
  private static final String Q_EXPIRES = "X-Amz-Expires";
  private static final String Q_SIGNED_HEADERS = "X-Amz-SignedHeaders";
  private static final String Q_SIGNATURE = "X-Amz-Signature";
  private static final String Q_SECURITY_TOKEN = "X-Amz-Security-Token";

  private final Function<String, Optional<Credential>> credentials;
  private final Clock clock;
  private final ConcurrentHashMap<SigningKeyId, byte[]> signingKeys = new ConcurrentHashMap<>();
  // Initialized prototypes, cloned per call: cheaper than getInstance (no provider lookup) and,
  // unlike a ThreadLocal, still cheap when every request runs on a fresh virtual thread.
  private final Mac macPrototype;
  private final MessageDigest sha256Prototype;

  /**
   * @param credentials finds the credential for an access key id; called once per request that
   *     passes the cheap checks
   * @param clock the time against which request timestamps are checked
   */
  public SigV4Verifier(Function<String, Optional<Credential>> credentials, Clock clock) {
    this.credentials = Objects.requireNonNull(credentials, "credentials");
    this.clock = Objects.requireNonNull(clock, "clock");
    try {
      this.macPrototype = Mac.getInstance(HMAC_SHA256);
      // Initializing fixes the provider, so clones never race on provider selection.
      this.macPrototype.init(new SecretKeySpec(new byte[32], HMAC_SHA256));
      this.sha256Prototype = MessageDigest.getInstance("SHA-256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 and SHA-256 are required of every platform", e);
    }
  }

  /**
   * Checks the request's signature.
   *
   * @return the credential whose secret signed the request
   * @throws KilnException {@code MissingAuthenticationTokenException} when the request carries no
   *     signature at all; {@code UnrecognizedClientException} when the access key is unknown;
   *     {@code InvalidSignatureException} when the signature is malformed, expired, scoped to
   *     another service or date, or does not match
   */
  public Credential verify(SignedRequest request) {
    Map<String, List<String>> headers = caseInsensitive(request.headers());
    List<String[]> pairs = canonicalQueryPairs(request.rawQuery());
    boolean presigned = hasPresignParameters(pairs);
    List<String> authorization = headers.get("authorization");
    boolean hasHeader = authorization != null && !authorization.isEmpty();

    Claim claim;
    if (hasHeader) {
      if (presigned) {
        throw invalidSignature(
            "Only one authentication mechanism is allowed: send either the Authorization header"
                + " or the X-Amz-* query parameters, not both.");
      }
      if (authorization.size() > 1) {
        throw invalidSignature("The request carries more than one Authorization header.");
      }
      claim = parseAuthorizationHeader(authorization.getFirst(), headers);
    } else if (presigned) {
      claim = parsePresignParameters(pairs);
    } else {
      throw new KilnException(ErrorCode.MissingAuthenticationTokenException, MISSING_TOKEN);
    }

    checkTime(claim);
    String[] signedHeaderNames = splitSignedHeaders(claim.signedHeaders);

    Credential credential =
        credentials
            .apply(claim.accessKeyId)
            .orElseThrow(
                () -> new KilnException(ErrorCode.UnrecognizedClientException, INVALID_TOKEN));

    String payloadHash = request.payloadSha256Hex();
    String claimedPayloadHash = first(headers, "x-amz-content-sha256");
    if (claimedPayloadHash != null && !claimedPayloadHash.trim().equals(payloadHash)) {
      throw invalidSignature(CONTENT_SHA256_MISMATCH);
    }

    String canonicalRequest =
        canonicalRequest(
            request.method(),
            request.rawPath(),
            pairs,
            presigned,
            headers,
            signedHeaderNames,
            claim.signedHeaders,
            payloadHash);
    String scope = claim.scopeDate + '/' + claim.region + '/' + SERVICE + '/' + TERMINATOR;
    String stringToSign =
        ALGORITHM
            + '\n'
            + claim.amzDate
            + '\n'
            + scope
            + '\n'
            + HEX.formatHex(sha256(canonicalRequest.getBytes(StandardCharsets.UTF_8)));

    byte[] key = signingKey(credential, claim.scopeDate, claim.region);
    byte[] expected = hmac(key, stringToSign.getBytes(StandardCharsets.UTF_8));
    byte[] provided = parseSignature(claim.signature);
    if (provided == null || !MessageDigest.isEqual(expected, provided)) {
      if (LOG.isDebugEnabled()) {
        LOG.debug(
            "SigV4 mismatch for {}; canonical request:\n{}\nstring to sign:\n{}",
            claim.accessKeyId,
            redact(canonicalRequest),
            stringToSign);
      }
      throw invalidSignature(SIGNATURE_MISMATCH);
    }
    return credential;
  }

  // ---------------------------------------------------------------------------------------------
  // What the client claims: parsed from the Authorization header or the presign parameters.

  /** The signature's claims, validated for form but not yet checked against a secret. */
  private record Claim(
      String accessKeyId,
      String scopeDate,
      String region,
      String signedHeaders,
      String signature,
      String amzDate,
      long epochSecond,
      String dateSource,
      long expiresSeconds) {}

  private static Claim parseAuthorizationHeader(String header, Map<String, List<String>> headers) {
    String value = header.strip();
    int space = value.indexOf(' ');
    String scheme = space < 0 ? value : value.substring(0, space);
    if (!ALGORITHM.equals(scheme)) {
      throw invalidSignature(
          "Authorization header uses the unsupported scheme '"
              + abbreviate(scheme)
              + "'; only "
              + ALGORITHM
              + " (Signature Version 4) is accepted.");
    }
    String credential = null;
    String signedHeaders = null;
    String signature = null;
    int start = space < 0 ? value.length() : space + 1;
    while (start < value.length()) {
      int comma = value.indexOf(',', start);
      int end = comma < 0 ? value.length() : comma;
      String part = value.substring(start, end).strip();
      start = end + 1;
      if (part.isEmpty()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq < 0) {
        throw invalidSignature(
            "'"
                + abbreviate(part)
                + "' not a valid key=value pair (missing equal-sign) in Authorization header.");
      }
      String name = part.substring(0, eq).strip();
      String param = part.substring(eq + 1).strip();
      switch (name) {
        case "Credential" -> credential = once(name, credential, param);
        case "SignedHeaders" -> signedHeaders = once(name, signedHeaders, param);
        case "Signature" -> signature = once(name, signature, param);
        default ->
            throw invalidSignature(
                "Authorization header has an unknown parameter '" + abbreviate(name) + "'.");
      }
    }
    StringBuilder missing = new StringBuilder();
    requireParameter(missing, "Credential", credential);
    requireParameter(missing, "Signature", signature);
    requireParameter(missing, "SignedHeaders", signedHeaders);
    if (!missing.isEmpty()) {
      throw invalidSignature(missing.toString().strip());
    }

    String amzDate;
    long epochSecond;
    String dateSource;
    String xAmzDate = first(headers, "x-amz-date");
    if (xAmzDate != null) {
      dateSource = "x-amz-date";
      amzDate = xAmzDate.strip();
      epochSecond = parseBasicIso(amzDate);
      if (epochSecond == Long.MIN_VALUE) {
        throw invalidSignature(
            "X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z'; got '"
                + abbreviate(amzDate)
                + "'.");
      }
    } else {
      String date = first(headers, "date");
      if (date == null) {
        throw invalidSignature(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date'"
                + " header.");
      }
      dateSource = "date";
      try {
        epochSecond =
            ZonedDateTime.parse(date.strip(), DateTimeFormatter.RFC_1123_DATE_TIME).toEpochSecond();
      } catch (DateTimeException e) {
        throw invalidSignature(
            "The Date header must be an RFC 1123 date; got '" + abbreviate(date) + "'.");
      }
      amzDate = formatBasicIso(epochSecond);
    }
    return claim(credential, signedHeaders, signature, amzDate, epochSecond, dateSource, -1);
  }

  private static Claim parsePresignParameters(List<String[]> pairs) {
    String algorithm = null;
    String credential = null;
    String date = null;
    String expires = null;
    String signedHeaders = null;
    String signature = null;
    for (String[] pair : pairs) {
      switch (pair[0]) {
        case Q_ALGORITHM -> algorithm = once(pair[0], algorithm, percentDecode(pair[1]));
        case Q_CREDENTIAL -> credential = once(pair[0], credential, percentDecode(pair[1]));
        case Q_DATE -> date = once(pair[0], date, percentDecode(pair[1]));
        case Q_EXPIRES -> expires = once(pair[0], expires, percentDecode(pair[1]));
        case Q_SIGNED_HEADERS ->
            signedHeaders = once(pair[0], signedHeaders, percentDecode(pair[1]));
        case Q_SIGNATURE -> signature = once(pair[0], signature, percentDecode(pair[1]));
        default -> {}
      }
    }
    if (algorithm == null
        || credential == null
        || date == null
        || expires == null
        || signedHeaders == null
        || signature == null) {
      throw invalidSignature(
          "AWS query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential,"
              + " X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires"
              + " parameters.");
    }
    if (!ALGORITHM.equals(algorithm)) {
      throw invalidSignature(
          "X-Amz-Algorithm '"
              + abbreviate(algorithm)
              + "' is not supported; only "
              + ALGORITHM
              + " (Signature Version 4) is accepted.");
    }
    long epochSecond = parseBasicIso(date);
    if (epochSecond == Long.MIN_VALUE) {
      throw invalidSignature(
          "X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z'; got '"
              + abbreviate(date)
              + "'.");
    }
    long expiresSeconds = parseExpires(expires);
    return claim(
        credential, signedHeaders, signature, date, epochSecond, "X-Amz-Date", expiresSeconds);
  }

  private static long parseExpires(String expires) {
    long value = -1;
    if (!expires.isEmpty() && expires.length() <= 7) {
      value = 0;
      for (int i = 0; i < expires.length(); i++) {
        char c = expires.charAt(i);
        if (c < '0' || c > '9') {
          value = -1;
          break;
        }
        value = value * 10 + (c - '0');
      }
    }
    if (value < 1 || value > MAX_PRESIGNED_EXPIRES_SECONDS) {
      throw invalidSignature(
          "X-Amz-Expires must be a whole number of seconds from 1 to "
              + MAX_PRESIGNED_EXPIRES_SECONDS
              + "; got '"
              + abbreviate(expires)
              + "'.");
    }
    return value;
  }

  /** Splits and checks the credential scope, and ties its date to the request's timestamp. */
  private static Claim claim(
      String credential,
      String signedHeaders,
      String signature,
      String amzDate,
      long epochSecond,
      String dateSource,
      long expiresSeconds) {
    // <access key id>/<date>/<region>/<service>/aws4_request: exactly four slashes.
    String[] parts = new String[5];
    int count = 0;
    int start = 0;
    while (count < parts.length) {
      int slash = credential.indexOf('/', start);
      int end = slash < 0 ? credential.length() : slash;
      parts[count++] = credential.substring(start, end);
      start = end + 1;
      if (slash < 0) {
        break;
      }
    }
    boolean trailing = start <= credential.length();
    if (count != parts.length || trailing || parts[0].isEmpty()) {
      throw invalidSignature(
          "Credential must have the form <access key id>/<yyyyMMdd>/<region>/"
              + SERVICE
              + "/"
              + TERMINATOR
              + "; got '"
              + abbreviate(credential)
              + "'.");
    }
    String accessKeyId = parts[0];
    String scopeDate = parts[1];
    String region = parts[2];
    if (region.isEmpty() || !region.strip().equals(region)) {
      throw invalidSignature("Credential should be scoped to a valid region.");
    }
    if (!SERVICE.equals(parts[3])) {
      throw invalidSignature("Credential should be scoped to correct service: '" + SERVICE + "'.");
    }
    if (!TERMINATOR.equals(parts[4])) {
      throw invalidSignature(
          "Credential should be scoped with a valid terminator: '"
              + TERMINATOR
              + "', not '"
              + abbreviate(parts[4])
              + "'.");
    }
    if (scopeDate.length() != 8 || !amzDate.startsWith(scopeDate)) {
      throw invalidSignature(
          "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from"
              + " HTTP: '"
              + abbreviate(scopeDate)
              + "' != '"
              + amzDate.substring(0, 8)
              + "', from '"
              + dateSource
              + "'.");
    }
    return new Claim(
        accessKeyId,
        scopeDate,
        region,
        signedHeaders,
        signature,
        amzDate,
        epochSecond,
        dateSource,
        expiresSeconds);
  }

  private void checkTime(Claim claim) {
    long now = clock.instant().getEpochSecond();
    long signed = claim.epochSecond;
    if (signed > now + MAX_SKEW_SECONDS) {
      throw invalidSignature(
          "Signature not yet current: "
              + claim.amzDate
              + " is still later than "
              + formatBasicIso(now + MAX_SKEW_SECONDS)
              + " ("
              + formatBasicIso(now)
              + " + 15 min.)");
    }
    if (claim.expiresSeconds < 0) {
      if (signed < now - MAX_SKEW_SECONDS) {
        throw invalidSignature(
            "Signature expired: "
                + claim.amzDate
                + " is now earlier than "
                + formatBasicIso(now - MAX_SKEW_SECONDS)
                + " ("
                + formatBasicIso(now)
                + " - 15 min.)");
      }
    } else if (now > signed + claim.expiresSeconds) {
      throw invalidSignature(
          "Signature expired: "
              + claim.amzDate
              + " is now earlier than "
              + formatBasicIso(now - claim.expiresSeconds)
              + " ("
              + formatBasicIso(now)
              + " - "
              + claim.expiresSeconds
              + " sec.)");
    }
  }

  /** Splits SignedHeaders into lower-case names; {@code host} must be among them. */
  private static String[] splitSignedHeaders(String signedHeaders) {
    int count = 1;
    for (int i = 0; i < signedHeaders.length(); i++) {
      if (signedHeaders.charAt(i) == ';') {
        count++;
      }
    }
    String[] names = new String[count];
    boolean host = false;
    int start = 0;
    for (int i = 0; i < count; i++) {
      int semi = signedHeaders.indexOf(';', start);
      int end = semi < 0 ? signedHeaders.length() : semi;
      String name = signedHeaders.substring(start, end).toLowerCase(Locale.ROOT);
      if (name.isEmpty()) {
        throw invalidSignature("SignedHeaders contains an empty header name.");
      }
      host |= name.equals("host");
      names[i] = name;
      start = end + 1;
    }
    if (!host) {
      throw invalidSignature(
          "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }
    return names;
  }

  // ---------------------------------------------------------------------------------------------
  // The canonical request.

  private static String canonicalRequest(
      String method,
      String rawPath,
      List<String[]> queryPairs,
      boolean presigned,
      Map<String, List<String>> headers,
      String[] signedHeaderNames,
      String signedHeaders,
      String payloadHash) {
    StringBuilder out = new StringBuilder(256 + rawPath.length() + 64 * signedHeaderNames.length);
    out.append(method).append('\n');
    appendCanonicalUri(out, rawPath);
    out.append('\n');
    appendCanonicalQuery(out, queryPairs, presigned);
    out.append('\n');
    for (String name : signedHeaderNames) {
      out.append(name).append(':');
      List<String> values = headers.get(name);
      if (values != null) {
        boolean firstValue = true;
        for (String v : values) {
          if (!firstValue) {
            out.append(',');
          }
          appendTrimmed(out, v);
          firstValue = false;
        }
      }
      out.append('\n');
    }
    out.append('\n').append(signedHeaders).append('\n').append(payloadHash);
    return out.toString();
  }

  /**
   * The canonical URI of a non-S3 service: the wire path, still percent-encoded, encoded once more;
   * {@code /} and the RFC 3986 unreserved characters stay as they are.
   */
  static String canonicalUri(String rawPath) {
    StringBuilder out = new StringBuilder(rawPath.length() + 16);
    appendCanonicalUri(out, rawPath);
    return out.toString();
  }

  private static void appendCanonicalUri(StringBuilder out, String rawPath) {
    if (rawPath.isEmpty()) {
      out.append('/');
      return;
    }
    int n = rawPath.length();
    for (int i = 0; i < n; i++) {
      char c = rawPath.charAt(i);
      if (c == '/' || isUnreserved(c)) {
        out.append(c);
      } else if (c < 0x80) {
        appendEscaped(out, c);
      } else {
        i = appendUtf8Escaped(out, rawPath, i);
      }
    }
  }

  /** The canonical query string built from a raw query (for tests and diagnostics). */
  static String canonicalQuery(String rawQuery) {
    StringBuilder out = new StringBuilder();
    appendCanonicalQuery(out, canonicalQueryPairs(rawQuery), false);
    return out.toString();
  }

  private static void appendCanonicalQuery(
      StringBuilder out, List<String[]> pairs, boolean presigned) {
    boolean firstPair = true;
    for (String[] pair : pairs) {
      if (presigned && pair[0].equals(Q_SIGNATURE)) {
        continue;
      }
      if (!firstPair) {
        out.append('&');
      }
      out.append(pair[0]).append('=').append(pair[1]);
      firstPair = false;
    }
  }

  /**
   * Splits a raw query into (name, value) pairs in canonical form (decoded, then re-encoded with
   * the unreserved set), sorted by name and then value. Empty segments and empty names are skipped,
   * as the AWS SDK for Java does.
   */
  static List<String[]> canonicalQueryPairs(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return List.of();
    }
    ArrayList<String[]> pairs = new ArrayList<>();
    StringBuilder scratch = new StringBuilder(32);
    int n = rawQuery.length();
    int start = 0;
    while (start < n) {
      int amp = rawQuery.indexOf('&', start);
      int end = amp < 0 ? n : amp;
      int eq = rawQuery.indexOf('=', start);
      if (eq >= end) {
        eq = -1;
      }
      int nameEnd = eq < 0 ? end : eq;
      if (nameEnd > start) {
        String name = canonicalComponent(scratch, rawQuery, start, nameEnd);
        String value = eq < 0 ? "" : canonicalComponent(scratch, rawQuery, eq + 1, end);
        pairs.add(new String[] {name, value});
      }
      start = end + 1;
    }
    if (pairs.size() > 1) {
      pairs.sort(PAIR_ORDER);
    }
    return pairs;
  }

  private static boolean hasPresignParameters(List<String[]> pairs) {
    for (String[] pair : pairs) {
      String name = pair[0];
      if (name.equals(Q_ALGORITHM) || name.equals(Q_SIGNATURE) || name.equals(Q_CREDENTIAL)) {
        return true;
      }
    }
    return false;
  }

  /**
   * One query name or value in canonical form: valid {@code %XX} escapes are decoded, a raw {@code
   * +} is a space, and every resulting byte outside the unreserved set is written as {@code %XX}
   * with upper-case hex. This works on bytes, so a value that is not valid UTF-8 keeps its exact
   * bytes; a {@code %} that starts no valid escape stands for itself.
   */
  private static String canonicalComponent(StringBuilder scratch, String s, int from, int to) {
    int i = from;
    while (i < to && isUnreserved(s.charAt(i))) {
      i++;
    }
    if (i == to) {
      return s.substring(from, to);
    }
    scratch.setLength(0);
    scratch.append(s, from, i);
    while (i < to) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < to) {
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi >= 0 && lo >= 0) {
          appendByte(scratch, (hi << 4) | lo);
          i += 3;
          continue;
        }
      }
      if (c == '+') {
        // Form decoding, as Helidon's UriQuery reads a query: '+' is a space.
        scratch.append("%20");
        i++;
      } else if (c < 0x80) {
        appendByte(scratch, c);
        i++;
      } else {
        i = appendUtf8Escaped(scratch, s, i) + 1;
      }
    }
    return scratch.toString();
  }

  private static void appendByte(StringBuilder out, int b) {
    if (b < 0x80 && isUnreserved((char) b)) {
      out.append((char) b);
    } else {
      appendEscaped(out, b);
    }
  }

  private static void appendEscaped(StringBuilder out, int b) {
    out.append('%').append(UPPER_HEX[(b >> 4) & 0xF]).append(UPPER_HEX[b & 0xF]);
  }

  /**
   * Writes the UTF-8 bytes of the code point at {@code i} as {@code %XX} escapes and returns the
   * index of its last char. A lone surrogate becomes U+FFFD, as String.getBytes would make it.
   */
  private static int appendUtf8Escaped(StringBuilder out, String s, int i) {
    int cp = s.codePointAt(i);
    int last = i + Character.charCount(cp) - 1;
    if (Character.isSurrogate((char) cp)) {
      cp = 0xFFFD;
    }
    if (cp < 0x800) {
      appendEscaped(out, 0xC0 | (cp >> 6));
      appendEscaped(out, 0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      appendEscaped(out, 0xE0 | (cp >> 12));
      appendEscaped(out, 0x80 | ((cp >> 6) & 0x3F));
      appendEscaped(out, 0x80 | (cp & 0x3F));
    } else {
      appendEscaped(out, 0xF0 | (cp >> 18));
      appendEscaped(out, 0x80 | ((cp >> 12) & 0x3F));
      appendEscaped(out, 0x80 | ((cp >> 6) & 0x3F));
      appendEscaped(out, 0x80 | (cp & 0x3F));
    }
    return last;
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '_'
        || c == '.'
        || c == '~';
  }

  /** Decodes a canonical-form component (only valid escapes) into a UTF-8 string. */
  private static String percentDecode(String canonical) {
    if (canonical.indexOf('%') < 0) {
      return canonical;
    }
    byte[] bytes = new byte[canonical.length()];
    int n = 0;
    for (int i = 0; i < canonical.length(); i++) {
      char c = canonical.charAt(i);
      if (c == '%') {
        bytes[n++] = (byte) HexFormat.fromHexDigits(canonical, i + 1, i + 3);
        i += 2;
      } else {
        bytes[n++] = (byte) c;
      }
    }
    return new String(bytes, 0, n, StandardCharsets.UTF_8);
  }

  /**
   * Appends a header value with leading and trailing white space removed and each inner run of
   * white space replaced by one space (the "Trimall" of the SigV4 specification).
   */
  static void appendTrimmed(StringBuilder out, String value) {
    int n = value.length();
    int i = 0;
    boolean pendingSpace = false;
    boolean any = false;
    while (i < n) {
      char c = value.charAt(i++);
      if (isWhitespace(c)) {
        pendingSpace = any;
      } else {
        if (pendingSpace) {
          out.append(' ');
          pendingSpace = false;
        }
        out.append(c);
        any = true;
      }
    }
  }

  private static boolean isWhitespace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\u000b' || c == '\f';
  }

  // ---------------------------------------------------------------------------------------------
  // Keys, digests, and small helpers.

  /** Identifies a derived signing key; its toString never shows the secret. */
  private record SigningKeyId(String accessKeyId, String secret, String date, String region) {
    @Override
    public String toString() {
      return "SigningKeyId[" + accessKeyId + ", " + date + ", " + region + "]";
    }
  }

  private byte[] signingKey(Credential credential, String date, String region) {
    SigningKeyId id =
        new SigningKeyId(credential.accessKeyId(), credential.secretAccessKey(), date, region);
    byte[] key = signingKeys.get(id);
    if (key == null) {
      Mac mac = newMac();
      byte[] k =
          hmac(mac, ("AWS4" + credential.secretAccessKey()).getBytes(StandardCharsets.UTF_8), date);
      k = hmac(mac, k, region);
      k = hmac(mac, k, SERVICE);
      key = hmac(mac, k, TERMINATOR);
      if (signingKeys.size() >= SIGNING_KEY_CACHE_LIMIT) {
        signingKeys.clear();
      }
      signingKeys.put(id, key);
    }
    return key;
  }

  /** How many derived signing keys are cached (for tests). */
  int cachedSigningKeys() {
    return signingKeys.size();
  }

  private static byte[] hmac(Mac mac, byte[] key, String data) {
    try {
      mac.init(new SecretKeySpec(key, HMAC_SHA256));
    } catch (java.security.InvalidKeyException e) {
      throw new IllegalStateException(e);
    }
    return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
  }

  private byte[] hmac(byte[] key, byte[] data) {
    Mac mac = newMac();
    try {
      mac.init(new SecretKeySpec(key, HMAC_SHA256));
    } catch (java.security.InvalidKeyException e) {
      throw new IllegalStateException(e);
    }
    return mac.doFinal(data);
  }

  private Mac newMac() {
    try {
      return (Mac) macPrototype.clone();
    } catch (CloneNotSupportedException e) {
      try {
        return Mac.getInstance(HMAC_SHA256);
      } catch (GeneralSecurityException impossible) {
        throw new IllegalStateException(impossible);
      }
    }
  }

  private byte[] sha256(byte[] data) {
    MessageDigest digest;
    try {
      digest = (MessageDigest) sha256Prototype.clone();
    } catch (CloneNotSupportedException e) {
      try {
        digest = MessageDigest.getInstance("SHA-256");
      } catch (GeneralSecurityException impossible) {
        throw new IllegalStateException(impossible);
      }
    }
    return digest.digest(data);
  }

  /** The 32 bytes of a 64-digit hex signature, or null when it is not one. */
  private static byte[] parseSignature(String signature) {
    if (signature.length() != 64) {
      return null;
    }
    for (int i = 0; i < 64; i++) {
      if (Character.digit(signature.charAt(i), 16) < 0) {
        return null;
      }
    }
    return HEX.parseHex(signature);
  }

  /**
   * Seconds since the epoch of a basic-format ISO 8601 UTC time ({@code 20150830T123600Z}), or
   * {@link Long#MIN_VALUE} when the text is not one.
   */
  static long parseBasicIso(String s) {
    if (s.length() != 16 || s.charAt(8) != 'T' || s.charAt(15) != 'Z') {
      return Long.MIN_VALUE;
    }
    for (int i = 0; i < 15; i++) {
      char c = s.charAt(i);
      if (i != 8 && (c < '0' || c > '9')) {
        return Long.MIN_VALUE;
      }
    }
    try {
      return LocalDateTime.of(
              digits(s, 0, 4),
              digits(s, 4, 6),
              digits(s, 6, 8),
              digits(s, 9, 11),
              digits(s, 11, 13),
              digits(s, 13, 15))
          .toEpochSecond(ZoneOffset.UTC);
    } catch (DateTimeException e) {
      return Long.MIN_VALUE;
    }
  }

  private static int digits(String s, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      v = v * 10 + (s.charAt(i) - '0');
    }
    return v;
  }

  static String formatBasicIso(long epochSecond) {
    return BASIC_ISO.format(java.time.Instant.ofEpochSecond(epochSecond));
  }

  /**
   * Header lookups by lower-case name: the caller's map if it already ignores case, else a copy.
   */
  private static Map<String, List<String>> caseInsensitive(Map<String, List<String>> headers) {
    if (headers instanceof SortedMap<String, List<String>> sorted
        && sorted.comparator() == String.CASE_INSENSITIVE_ORDER) {
      return headers;
    }
    HashMap<String, List<String>> lower = HashMap.newHashMap(headers.size());
    for (Map.Entry<String, List<String>> e : headers.entrySet()) {
      if (e.getKey() == null || e.getValue() == null || e.getValue().isEmpty()) {
        continue;
      }
      String name = e.getKey().toLowerCase(Locale.ROOT);
      List<String> previous = lower.putIfAbsent(name, e.getValue());
      if (previous != null) {
        List<String> merged = new ArrayList<>(previous);
        merged.addAll(e.getValue());
        lower.put(name, merged);
      }
    }
    return lower;
  }

  private static String first(Map<String, List<String>> headers, String lowerCaseName) {
    List<String> values = headers.get(lowerCaseName);
    return values == null || values.isEmpty() ? null : values.getFirst();
  }

  private static String once(String name, String previous, String value) {
    if (previous != null) {
      throw invalidSignature("The request has more than one '" + name + "' parameter.");
    }
    return value;
  }

  private static void requireParameter(StringBuilder missing, String name, String value) {
    if (value == null || value.isEmpty()) {
      missing.append("Authorization header requires '").append(name).append("' parameter. ");
    }
  }

  /** Client text echoed in a message is cut short, so a message never grows without bound. */
  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  /** The canonical request for a debug log, without the session token's value. */
  static String redact(String canonicalRequest) {
    StringBuilder out = new StringBuilder(canonicalRequest.length());
    for (String line : canonicalRequest.split("\n", -1)) {
      if (!out.isEmpty()) {
        out.append('\n');
      }
      if (line.startsWith("x-amz-security-token:")) {
        out.append("x-amz-security-token:<redacted>");
      } else if (line.contains(Q_SECURITY_TOKEN + "=")) {
        int at = line.indexOf(Q_SECURITY_TOKEN + "=") + Q_SECURITY_TOKEN.length() + 1;
        int end = line.indexOf('&', at);
        out.append(line, 0, at).append("<redacted>");
        if (end >= 0) {
          out.append(line, end, line.length());
        }
      } else {
        out.append(line);
      }
    }
    return out.toString();
  }

  private static KilnException invalidSignature(String message) {
    return new KilnException(ErrorCode.InvalidSignatureException, message);
  }
}
