package dev.kiln.core.batch;

/** An item a runner took to invoke, with the attempts already spent on it. */
public record ClaimedBatchItem(long index, byte[] payload, int attempts) {}
