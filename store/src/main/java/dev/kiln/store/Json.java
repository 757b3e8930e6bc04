package dev.kiln.store;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

/** The JSON form of the records kept as documents in the metadata tables. */
final class Json {
  private static final JsonMapper MAPPER =
      JsonMapper.builder()
          // Documents written by a newer Kiln may carry fields this one does not know: ignore them
          // so a rollback of the binary does not make the store unreadable.
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          // ISO-8601 strings keep an Instant's full precision and stay readable in the database.
          .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
          // Only record components are data; helpers such as FunctionVersion.isLatest() are not.
          .enable(MapperFeature.INFER_RECORD_GETTERS_FROM_COMPONENTS_ONLY)
          .build();

  private Json() {}

  static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JacksonException e) {
      throw new StoreException("cannot encode " + value.getClass().getSimpleName() + " as JSON", e);
    }
  }

  static <T> T read(String json, Class<T> type) {
    try {
      return MAPPER.readValue(json, type);
    } catch (JacksonException e) {
      throw new StoreException("stored " + type.getSimpleName() + " is not valid JSON: " + json, e);
    }
  }
}
