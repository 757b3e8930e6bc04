package dev.kiln.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs the real {@code curl} as a browser-less HTTP client would: it resolves {@code *.localhost}
 * to the loopback address itself, so function URLs in their host form work without any resolver
 * set-up, and it sends repeated headers and Set-Cookie exactly as given.
 */
public final class Curl {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final Path workDir;

  public Curl(Path workDir) {
    this.workDir = workDir;
  }

  /** One response: status, headers by lower-case name (every value, in order), body. */
  public record Response(int status, Map<String, List<String>> headers, byte[] body) {
    public String header(String name) {
      var values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.getFirst();
    }

    public List<String> headers(String name) {
      return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public JsonNode json() {
      return JSON.readTree(body);
    }

    @Override
    public String toString() {
      return "HTTP " + status + " " + headers + " " + text();
    }
  }

  /**
   * {@code curl -X METHOD URL} with the given headers ("Name: value", repeats allowed) and body
   * (null: none), within 60 seconds.
   */
  public Response send(String method, String url, List<String> headers, byte[] body) {
    try {
      Files.createDirectories(workDir);
      var id = UUID.randomUUID().toString();
      var headerFile = workDir.resolve("curl-" + id + ".headers");
      var bodyFile = workDir.resolve("curl-" + id + ".body");
      List<String> command = new ArrayList<>(List.of("curl", "-s", "-S", "--max-time", "60", "-X", method,
          "-D", headerFile.toString(), "-o", bodyFile.toString()));
      for (var header : headers) {
        command.addAll(List.of("-H", header));
      }
      if (body != null) {
        var in = workDir.resolve("curl-" + id + ".in");
        Files.write(in, body);
        command.addAll(List.of("--data-binary", "@" + in));
      }
      command.add(url);
      var process = new ProcessBuilder(command).redirectErrorStream(true).start();
      var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(90, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("curl did not finish: " + command);
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException("curl failed (" + process.exitValue() + "): " + output + " " + command);
      }
      var response = parse(Files.readString(headerFile, StandardCharsets.ISO_8859_1),
          Files.exists(bodyFile) ? Files.readAllBytes(bodyFile) : new byte[0]);
      for (var file : List.of(headerFile, bodyFile, workDir.resolve("curl-" + id + ".in"))) {
        Files.deleteIfExists(file);
      }
      return response;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public Response get(String url, String... headers) {
    return send("GET", url, List.of(headers), null);
  }

  /**
   * Responses to GET requests curl sent one after another, each after the previous answer, and
   * for each how many new connections curl opened for it: 0 means it went over the connection the
   * previous request left open (keep-alive).
   */
  public record Sequence(List<Response> responses, List<Integer> newConnections) {}

  /** One curl run that GETs each URL in turn, reusing the connection when the server keeps it open (20 s at most). */
  public Sequence getInTurn(List<String> urls) {
    try {
      Files.createDirectories(workDir);
      var id = UUID.randomUUID().toString();
      List<String> command = new ArrayList<>(List.of("curl", "-s", "-S", "--max-time", "20",
          "-w", TRANSFER_MARK + " %{http_code} %{num_connects}\n%{header_json}\n"));
      List<Path> bodies = new ArrayList<>();
      for (int i = 0; i < urls.size(); i++) {
        var body = workDir.resolve("curl-" + id + "-" + i + ".body");
        bodies.add(body);
        command.addAll(List.of("-o", body.toString(), urls.get(i)));
      }
      var process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("curl did not finish: " + command);
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException("curl failed (" + process.exitValue() + ", 28 is a timeout) after: "
            + output + " " + command);
      }
      List<Response> responses = new ArrayList<>();
      List<Integer> connections = new ArrayList<>();
      var transfers = output.split(TRANSFER_MARK + " ");
      for (int i = 1; i < transfers.length; i++) {
        var transfer = transfers[i];
        int newline = transfer.indexOf('\n');
        var figures = transfer.substring(0, newline).strip().split(" ");
        var headers = new LinkedHashMap<String, List<String>>();
        JSON.readTree(transfer.substring(newline + 1)).properties().forEach(e -> {
          List<String> values = new ArrayList<>();
          e.getValue().forEach(v -> values.add(v.asString()));
          headers.put(e.getKey().toLowerCase(Locale.ROOT), values);
        });
        var bodyFile = bodies.get(i - 1);
        responses.add(new Response(Integer.parseInt(figures[0]), headers,
            Files.exists(bodyFile) ? Files.readAllBytes(bodyFile) : new byte[0]));
        connections.add(Integer.parseInt(figures[1]));
        Files.deleteIfExists(bodyFile);
      }
      return new Sequence(responses, connections);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static final String TRANSFER_MARK = "KILN-TRANSFER";

  /** The last header block curl wrote (a 100 Continue comes first when a body is large). */
  private static Response parse(String dump, byte[] body) {
    var blocks = dump.strip().split("\r\n\r\n");
    var head = ResponseHead.parse(blocks[blocks.length - 1]);
    return new Response(head.status(), head.headers(), body);
  }
}
