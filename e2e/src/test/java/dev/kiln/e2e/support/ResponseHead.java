package dev.kiln.e2e.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** An HTTP response's status and headers by lower-case name (every value, in order), as its head gives them. */
record ResponseHead(int status, Map<String, List<String>> headers) {
  /** Parses one head block: CRLF-separated lines, the status line first. */
  static ResponseHead parse(String head) {
    var lines = head.split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    var headers = new LinkedHashMap<String, List<String>>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.computeIfAbsent(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
            .add(lines[i].substring(colon + 1).strip());
      }
    }
    return new ResponseHead(status, headers);
  }
}
