package dev.kiln.runtimes.fn;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyRequestEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayProxyResponseEvent;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.joda.time.DateTime;
import org.joda.time.DateTimeZone;
import org.w3c.dom.Document;

/**
 * A handler with the kind of initialization real functions have: an HTTP client, an XML configuration, date and
 * time formatting, regular expressions and the events library (several hundred classes in all).
 */
public class HeavyInit implements RequestHandler<Map<String, Object>, Map<String, Object>> {
  private final HttpClient http;
  private final Map<String, String> config = new TreeMap<>();
  private final Pattern word = Pattern.compile("[\\p{L}']+");
  private final DateTimeFormatter format = DateTimeFormatter.ISO_OFFSET_DATE_TIME;
  private final String started;

  public HeavyInit() throws Exception {
    http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    String xml = "<config><entry key='endpoint'>https://example.com/api</entry><entry key='mode'>fast</entry></config>";
    Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    var entries = doc.getElementsByTagName("entry");
    for (int i = 0; i < entries.getLength(); i++) {
      var e = (org.w3c.dom.Element) entries.item(i);
      config.put(e.getAttribute("key"), e.getTextContent());
    }
    URI.create(config.get("endpoint"));
    new APIGatewayProxyRequestEvent().withPath("/").withHttpMethod("GET");
    new APIGatewayProxyResponseEvent().withStatusCode(200);
    new SQSEvent.SQSMessage().setBody("x");
    new ScheduledEvent().withTime(new DateTime(2020, 1, 1, 0, 0, DateTimeZone.UTC));
    started = format.format(ZonedDateTime.parse("2026-11-23T10:00:00Z"));
  }

  @Override
  public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
    String text = String.valueOf(event.getOrDefault("text", ""));
    return Map.of("words", word.matcher(text).results().count(), "mode", config.get("mode"), "started", started,
        "client", http.version().name());
  }
}
