package dev.kiln.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads the [default] profile of an AWS shared-credentials file. */
public final class Credentials {
  private Credentials() {}

  public static Map<String, String> read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new AssertionError("the server wrote no credentials file at " + file);
    }
    try {
      Map<String, String> values = new LinkedHashMap<>();
      String section = null;
      for (String raw : Files.readAllLines(file)) {
        String line = raw.strip();
        if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
          continue;
        }
        if (line.startsWith("[") && line.endsWith("]")) {
          section = line.substring(1, line.length() - 1).strip();
          continue;
        }
        int eq = line.indexOf('=');
        if ("default".equals(section) && eq > 0) {
          values.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
        }
      }
      if (!values.containsKey("aws_access_key_id") || !values.containsKey("aws_secret_access_key")) {
        throw new AssertionError(
            "no [default] aws_access_key_id / aws_secret_access_key in " + file + ":\n"
                + Files.readString(file));
      }
      return values;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
