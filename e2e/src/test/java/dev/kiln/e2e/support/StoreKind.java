package dev.kiln.e2e.support;

/** The metadata stores every test area runs against. */
public enum StoreKind {
  /** The embedded SQLite store under the data directory (no --store-url). */
  SQLITE,
  /** A fresh PostgreSQL database per server, from {@code KILN_TEST_PG_URL}. */
  POSTGRES
}
