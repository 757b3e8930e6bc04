package dev.kiln.control;

import dev.kiln.core.batch.BatchItemCounts;
import dev.kiln.core.batch.BatchJob;

/** A batch job with how many of its items are in each state. */
public record BatchStatus(BatchJob job, BatchItemCounts counts) {}
