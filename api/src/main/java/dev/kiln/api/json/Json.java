package dev.kiln.api.json;

import tools.jackson.databind.json.JsonMapper;

/** The one JSON mapper of the API layer: thread-safe once built, so built once. */
public final class Json {
  private Json() {}

  public static final JsonMapper MAPPER = JsonMapper.builder().build();

  public static byte[] write(Object document) {
    return MAPPER.writeValueAsBytes(document);
  }
}
