package dev.kiln.core;

/** Where a Kiln node says its resources live; ARNs carry it like Lambda's do. */
public record Region(String name) {
  public static final Region DEFAULT = new Region("us-east-1");

  public Region {
    if (name == null || !name.matches("[a-z]{2}(-[a-z]+)+-\\d")) {
      throw new IllegalArgumentException("not a region name: " + name);
    }
  }
}
