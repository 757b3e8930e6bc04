package dev.kiln.admission;

/** One admitted execution's concurrency slot; closing it releases the slot exactly once. */
public interface Permit extends AutoCloseable {
  @Override
  void close();
}
