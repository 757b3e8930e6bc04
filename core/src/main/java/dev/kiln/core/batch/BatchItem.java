package dev.kiln.core.batch;

/**
 * One item of a batch job as uploaded: its position in the data set, where it came from (a line
 * of a JSON Lines file or a file's path under a folder; either may be null) and the event it is
 * invoked with.
 */
public record BatchItem(long index, Integer line, String path, byte[] payload) {}
