package dev.kiln.cli;

import dev.kiln.control.Batches;
import dev.kiln.core.batch.BatchItem;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import tools.jackson.databind.json.JsonMapper;

/**
 * The items of a {@code kiln batch} input, read in order and as often as needed (once to check
 * and fingerprint them, once more to upload what the server lacks), never all held in memory.
 *
 * <ul>
 *   <li>A file is JSON Lines: each non-blank line is one item, its payload the line itself, which
 *       must be one JSON value.
 *   <li>A folder: each regular file under it (recursively, sorted by relative path) is one item.
 *       Its payload is the file's content when that is a JSON document, otherwise
 *       {@code {"path": "relative/path", "body": "<base64 of the content>"}}.
 * </ul>
 */
sealed interface BatchInput permits BatchInput.JsonLines, BatchInput.Folder {

  /** Receives the items of an input one by one. */
  @FunctionalInterface
  interface ItemSink {
    void accept(BatchItem item) throws IOException, InterruptedException;
  }

  static BatchInput open(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      return new Folder(path);
    }
    if (Files.isRegularFile(path)) {
      return new JsonLines(path);
    }
    throw new IOException(path + " is neither a file nor a folder");
  }

  /** Where the items come from, for people. */
  String source();

  /** Sends every item from index {@code from} on to {@code sink}, in order. */
  void read(long from, ItemSink sink) throws IOException, InterruptedException;

  /** Why the item cannot be invoked, or null when it can. */
  static String problem(BatchItem item) {
    if (item.payload().length > Batches.MAX_PAYLOAD_BYTES) {
      return item.payload().length + " bytes is more than an invocation payload may have ("
          + Batches.MAX_PAYLOAD_BYTES + ")";
    }
    var json = Batches.jsonProblem(item.payload());
    return json == null ? null : "not valid JSON: " + json;
  }

  record JsonLines(Path file) implements BatchInput {
    @Override
    public String source() {
      return file.getFileName().toString();
    }

    @Override
    public void read(long from, ItemSink sink) throws IOException, InterruptedException {
      try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        long index = 0;
        int lineNumber = 0;
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
          lineNumber++;
          if (lineNumber == 1 && line.startsWith("\uFEFF")) {
            line = line.substring(1);
          }
          if (line.isBlank()) {
            continue;
          }
          if (index >= from) {
            sink.accept(new BatchItem(index, lineNumber, null, line.getBytes(StandardCharsets.UTF_8)));
          }
          index++;
        }
      }
    }
  }

  record Folder(Path root) implements BatchInput {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Override
    public String source() {
      return root.getFileName() + "/";
    }

    @Override
    public void read(long from, ItemSink sink) throws IOException, InterruptedException {
      var files = files();
      for (long index = from; index < files.size(); index++) {
        var relative = files.get((int) index);
        byte[] content = Files.readAllBytes(root.resolve(relative));
        sink.accept(new BatchItem(index, null, relative, payload(relative, content)));
      }
    }

    /** Relative paths with '/' separators, sorted, so the order is the same on every run. */
    private List<String> files() throws IOException {
      try (Stream<Path> walk = Files.walk(root)) {
        var paths = new ArrayList<String>();
        walk.filter(Files::isRegularFile).forEach(p -> paths.add(relative(p)));
        paths.sort(Comparator.naturalOrder());
        return paths;
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
    }

    private String relative(Path file) {
      var parts = new ArrayList<String>();
      root.relativize(file).forEach(part -> parts.add(part.toString()));
      return String.join("/", parts);
    }

    private static byte[] payload(String relative, byte[] content) {
      if (Batches.jsonProblem(content) == null) {
        return content;
      }
      var wrapped = JSON.createObjectNode();
      wrapped.put("path", relative);
      wrapped.put("body", Base64.getEncoder().encodeToString(content));
      return JSON.writeValueAsBytes(wrapped);
    }
  }
}
