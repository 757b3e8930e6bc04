package dev.kiln.core;

/** Builds the ARNs Kiln hands out, in Lambda's format. */
public final class Arns {
  private Arns() {}

  public static String function(Region region, String account, String name) {
    return "arn:aws:lambda:" + region.name() + ":" + account + ":function:" + name;
  }

  public static String function(Region region, String account, String name, String qualifier) {
    return function(region, account, name) + ":" + qualifier;
  }
}
