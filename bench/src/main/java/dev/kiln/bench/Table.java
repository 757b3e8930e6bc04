package dev.kiln.bench;

import java.util.ArrayList;
import java.util.List;

/** A plain text table: the first column left-aligned, the others right-aligned. */
final class Table {
  private final List<String[]> rows = new ArrayList<>();
  private final List<Integer> rules = new ArrayList<>();

  Table row(String... cells) {
    rows.add(cells);
    return this;
  }

  /** A dashed line under the rows added so far. */
  Table rule() {
    rules.add(rows.size());
    return this;
  }

  String render() {
    int columns = rows.stream().mapToInt(r -> r.length).max().orElse(0);
    int[] width = new int[columns];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    int total = 0;
    for (int w : width) {
      total += w + 2;
    }
    StringBuilder out = new StringBuilder();
    for (int n = 0; n < rows.size(); n++) {
      String[] r = rows.get(n);
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        String cell = r[i];
        String pad = " ".repeat(width[i] - cell.length());
        line.append(i == 0 ? cell + pad : pad + cell).append(i + 1 < r.length ? "  " : "");
      }
      out.append(line.toString().stripTrailing()).append('\n');
      if (rules.contains(n + 1)) {
        out.append("-".repeat(Math.max(0, total - 2))).append('\n');
      }
    }
    return out.toString();
  }
}
