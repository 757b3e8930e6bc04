package dev.kiln.core.batch;

/** An item that failed for good, with where it came from and the function's last error. */
public record BatchFailure(
    long index, Integer line, String path, int attempts, String errorType, String errorMessage) {}
