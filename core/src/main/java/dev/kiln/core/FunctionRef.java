package dev.kiln.core;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A function named the way Lambda accepts it: {@code name}, {@code name:qualifier}, a partial ARN
 * {@code 123456789012:function:name[:qualifier]} or a full ARN
 * {@code arn:aws:lambda:region:123456789012:function:name[:qualifier]}.
 *
 * @param account the account the reference names, when it names one
 */
public record FunctionRef(Optional<String> account, String name, Optional<String> qualifier) {
  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9-_]{1,64}");
  private static final Pattern QUALIFIER = Pattern.compile("\\$LATEST|[a-zA-Z0-9-_]{1,128}");
  private static final Pattern FULL_ARN =
      Pattern.compile("arn:aws[a-zA-Z-]*:lambda:([a-z]{2}(?:-[a-z]+)+-\\d):(\\d{12}):function:([^:]+)(?::([^:]+))?");
  private static final Pattern PARTIAL_ARN = Pattern.compile("(\\d{12}):function:([^:]+)(?::([^:]+))?");
  private static final Pattern NAME_WITH_QUALIFIER = Pattern.compile("([^:]+)(?::([^:]+))?");

  /**
   * Parses what a client put in the FunctionName path segment; {@code explicitQualifier} is the
   * {@code Qualifier} query parameter, which must agree with one carried in the name.
   */
  public static FunctionRef parse(String raw, String explicitQualifier) {
    if (raw == null || raw.isEmpty()) {
      throw KilnException.invalid("FunctionName must not be empty.");
    }
    if (raw.length() > 170) {
      throw lengthError(raw);
    }
    String account = null;
    String name;
    String qualifier;
    var full = FULL_ARN.matcher(raw);
    var partial = PARTIAL_ARN.matcher(raw);
    var plain = NAME_WITH_QUALIFIER.matcher(raw);
    if (full.matches()) {
      account = full.group(2);
      name = full.group(3);
      qualifier = full.group(4);
    } else if (partial.matches()) {
      account = partial.group(1);
      name = partial.group(2);
      qualifier = partial.group(3);
    } else if (plain.matches()) {
      name = plain.group(1);
      qualifier = plain.group(2);
    } else {
      throw invalidName(raw);
    }
    if (name.length() > 64) {
      throw lengthError(raw);
    }
    if (!NAME.matcher(name).matches()) {
      throw invalidName(raw);
    }
    if (explicitQualifier != null && !explicitQualifier.isEmpty()) {
      if (qualifier != null && !qualifier.equals(explicitQualifier)) {
        throw KilnException.invalid(
            "The derived qualifier from the function name does not match the specified qualifier.");
      }
      qualifier = explicitQualifier;
    }
    if (qualifier != null && !QUALIFIER.matcher(qualifier).matches()) {
      throw KilnException.invalid(
          "1 validation error detected: Value '" + qualifier + "' at 'qualifier' failed to satisfy constraint:"
              + " Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)");
    }
    return new FunctionRef(Optional.ofNullable(account), name, Optional.ofNullable(qualifier));
  }

  /** Validates a bare function name as CreateFunction receives it (ARNs are allowed there too). */
  public static String requireName(String raw) {
    var ref = parse(raw, null);
    if (ref.qualifier().isPresent()) {
      throw KilnException.invalid("FunctionName must not carry a qualifier when creating a function.");
    }
    return ref.name();
  }

  public String qualifierOr(String fallback) {
    return qualifier.orElse(fallback);
  }

  private static KilnException lengthError(String raw) {
    return KilnException.invalid(
        "1 validation error detected: Value '" + raw + "' at 'functionName' failed to satisfy constraint:"
            + " Member must have length less than or equal to 64");
  }

  private static KilnException invalidName(String raw) {
    return KilnException.invalid(
        "1 validation error detected: Value '" + raw + "' at 'functionName' failed to satisfy constraint:"
            + " Member must satisfy regular expression pattern:"
            + " (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
  }
}
