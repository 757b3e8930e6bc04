package dev.kiln.core;

import java.util.Set;

/**
 * Runtime identifiers. Kiln accepts every identifier Lambda accepts, so existing templates deploy
 * unchanged; {@link #RUNNABLE} are those Kiln can execute.
 */
public final class Runtimes {
  private Runtimes() {}

  public static final Set<String> RUNNABLE = Set.of(
      "nodejs20.x", "nodejs22.x", "python3.11", "python3.12", "python3.13", "java21", "java25",
      "provided.al2023", "provided");

  public static final Set<String> ACCEPTED = Set.of(
      "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x",
      "nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x", "java8", "java8.al2", "java11",
      "java17", "java21", "java25", "python2.7", "python3.6", "python3.7", "python3.8", "python3.9",
      "python3.10", "python3.11", "python3.12", "python3.13", "python3.14", "dotnetcore1.0", "dotnetcore2.0",
      "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "dotnet8", "dotnet10", "nodejs4.3-edge", "go1.x",
      "ruby2.5", "ruby2.7", "ruby3.2", "ruby3.3", "ruby3.4", "provided", "provided.al2", "provided.al2023");
}
