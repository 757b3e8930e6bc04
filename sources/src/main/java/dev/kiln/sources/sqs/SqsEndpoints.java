package dev.kiln.sources.sqs;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where Kiln reaches the SQS-compatible queues that mappings and destinations name by ARN. A queue
 * {@code arn:aws:sqs:REGION:ACCOUNT:NAME} is at {@code ENDPOINT/ACCOUNT/NAME} under the default
 * endpoint (how ElasticMQ and SQS itself lay out queue URLs), unless a queue has a URL of its own.
 *
 * @param defaultEndpoint base URL such as {@code http://127.0.0.1:9324}, or null for none
 * @param queueUrls full queue URLs by queue ARN, overriding the default endpoint
 */
public record SqsEndpoints(String defaultEndpoint, Map<String, String> queueUrls) {
  private static final Pattern QUEUE_ARN =
      Pattern.compile("arn:aws[a-zA-Z-]*:sqs:([a-z]{2}(?:-gov)?-[a-z]+-\\d):(\\d{12}):([A-Za-z0-9_-]{1,80}(?:\\.fifo)?)");

  public SqsEndpoints {
    if (defaultEndpoint != null) {
      defaultEndpoint = checkUrl(defaultEndpoint, "--sqs-endpoint");
      if (defaultEndpoint.endsWith("/")) {
        defaultEndpoint = defaultEndpoint.substring(0, defaultEndpoint.length() - 1);
      }
    }
    queueUrls = Map.copyOf(queueUrls);
  }

  public static SqsEndpoints none() {
    return new SqsEndpoints(null, Map.of());
  }

  /**
   * From {@code kiln up}'s options: the default endpoint (may be null or blank) and {@code ARN=URL}
   * entries.
   *
   * @throws IllegalArgumentException with a message for the user when an entry is malformed
   */
  public static SqsEndpoints parse(String defaultEndpoint, List<String> queueEntries) {
    var urls = new LinkedHashMap<String, String>();
    for (var entry : queueEntries == null ? List.<String>of() : queueEntries) {
      int eq = entry.indexOf('=');
      if (eq < 0 || !QUEUE_ARN.matcher(entry.substring(0, eq)).matches()) {
        throw new IllegalArgumentException("--sqs-queue takes QUEUE_ARN=QUEUE_URL, e.g. "
            + "arn:aws:sqs:us-east-1:000000000000:orders=http://127.0.0.1:9324/000000000000/orders; got " + entry);
      }
      urls.put(entry.substring(0, eq), checkUrl(entry.substring(eq + 1), "--sqs-queue"));
    }
    return new SqsEndpoints(defaultEndpoint == null || defaultEndpoint.isBlank() ? null : defaultEndpoint.strip(),
        urls);
  }

  /** Whether no queue can be reached at all. */
  public boolean isEmpty() {
    return defaultEndpoint == null && queueUrls.isEmpty();
  }

  /** Where a queue lives, as the SQS client needs it. */
  public record Queue(String arn, String region, URI endpoint, String url) {}

  /**
   * The queue's address, or empty when the ARN is not a queue ARN or no endpoint covers it.
   */
  public Optional<Queue> resolve(String arn) {
    var match = QUEUE_ARN.matcher(arn == null ? "" : arn);
    if (!match.matches()) {
      return Optional.empty();
    }
    var url = queueUrls.get(arn);
    if (url == null) {
      if (defaultEndpoint == null) {
        return Optional.empty();
      }
      url = defaultEndpoint + "/" + match.group(2) + "/" + match.group(3);
    }
    var uri = URI.create(url);
    return Optional.of(new Queue(arn, match.group(1), URI.create(uri.getScheme() + "://" + uri.getRawAuthority()),
        url));
  }

  /** What to tell a user whose queue has no endpoint. */
  public static String noEndpointAdvice(String arn) {
    return "Kiln has no endpoint for queue " + arn + ": start it with --sqs-endpoint http://HOST:PORT (queues at "
        + "HOST:PORT/ACCOUNT/NAME) or --sqs-queue " + arn + "=QUEUE_URL";
  }

  private static String checkUrl(String url, String option) {
    try {
      var uri = URI.create(url);
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getRawAuthority() == null) {
        throw new IllegalArgumentException(option + " needs an http:// or https:// URL with a host, not " + url);
      }
      return url;
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith(option)) {
        throw e;
      }
      throw new IllegalArgumentException(option + " needs an http:// or https:// URL, not " + url, e);
    }
  }
}
