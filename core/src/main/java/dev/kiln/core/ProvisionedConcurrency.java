package dev.kiln.core;

import java.time.Instant;

/** A provisioned-concurrency configuration: this many environments kept initialized for a version or alias. */
public record ProvisionedConcurrency(String qualifier, int requested, Instant lastModified) {}
