package dev.kiln.store;

import dev.kiln.core.batch.BatchFailure;
import dev.kiln.core.batch.BatchItem;
import dev.kiln.core.batch.BatchItemCounts;
import dev.kiln.core.batch.BatchJob;
import dev.kiln.core.batch.BatchJobState;
import dev.kiln.core.batch.BatchOutcome;
import dev.kiln.core.batch.ClaimedBatchItem;
import java.util.List;
import java.util.Optional;

/**
 * The tables of batch jobs over a data set and the checkpoint of every item, inside one {@link
 * StoreTransaction}. An item moves Pending -> Running (claimed by a runner) -> Succeeded or Failed;
 * Running items of a runner that died go back to Pending ({@link #requeueRunning}), so every item
 * is invoked at least once. Jobs and items go with their function (ON DELETE CASCADE).
 */
public interface BatchStore {

  /**
   * @throws DuplicateKeyException when the account has a job with this id or idempotency key
   * @throws IllegalStateException when the function does not exist
   */
  void insertJob(BatchJob job);

  /** In a write transaction the job's row stays locked until commit (PostgreSQL). */
  Optional<BatchJob> job(String account, String jobId);

  Optional<BatchJob> jobByIdempotencyKey(String account, String idempotencyKey);

  /** Jobs of an account, of one function when {@code functionName} is not null, oldest first. */
  List<BatchJob> jobs(String account, String functionName, int limit);

  /** Jobs of every account in a state, e.g. the ones to resume when a node starts. */
  List<BatchJob> jobsInState(BatchJobState state);

  /** Replaces the stored job (state and document); a job that does not exist is a caller bug. */
  void updateJob(BatchJob job);

  /** Deletes the job and all its items. */
  void deleteJob(String account, String jobId);

  /**
   * Adds items as Pending with no attempts. An index the job has already keeps its first payload,
   * so an interrupted upload can simply be sent again. Returns the number of items added.
   */
  int insertItems(String account, String jobId, List<BatchItem> items);

  BatchItemCounts counts(String account, String jobId);

  /**
   * Marks up to {@code limit} Pending items Running, lowest index first, and returns them. On
   * PostgreSQL rows another transaction is claiming are skipped, never waited for or taken twice.
   */
  List<ClaimedBatchItem> claim(String account, String jobId, int limit);

  /** Settles claimed items (or hands them back); items that are not Running any more are left alone. */
  void record(String account, String jobId, List<BatchOutcome> outcomes);

  /** Every Running item of the job back to Pending: its runner is gone. Returns how many. */
  int requeueRunning(String account, String jobId);

  /** Failed items after index {@code afterIndex} (-1: from the start), in index order. */
  List<BatchFailure> failures(String account, String jobId, long afterIndex, int limit);
}
