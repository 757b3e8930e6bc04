package dev.kiln.store;

/**
 * What differs in the SQL the two engines accept. Everything else (upserts with ON CONFLICT,
 * LIMIT, COALESCE) is written once in {@link JdbcTransaction}.
 *
 * @param jsonParam placeholder for a JSON document parameter bound as a string
 * @param timestampParam placeholder for an ISO-8601 instant bound as a string
 * @param lockForUpdate suffix of the function lookup in a write transaction
 */
record Dialect(String name, String jsonParam, String timestampParam, String lockForUpdate) {
  /** SQLite locks the whole database in BEGIN IMMEDIATE, so rows need no lock of their own. */
  static final Dialect SQLITE = new Dialect("SQLite", "?", "?", "");

  static final Dialect POSTGRES =
      new Dialect("PostgreSQL", "CAST(? AS jsonb)", "CAST(? AS timestamptz)", " FOR UPDATE");
}
