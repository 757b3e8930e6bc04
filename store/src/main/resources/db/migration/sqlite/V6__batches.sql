-- Batch jobs over a data set, SQLite flavour. A job is kept whole as a JSON document (doc); the
-- other columns are the keys it is found by. Every item is a row: its status is the checkpoint
-- (Pending -> Running -> Succeeded / Failed), so a restarted node knows what is left to invoke.

CREATE TABLE batch_jobs (
  account         TEXT NOT NULL,
  job_id          TEXT NOT NULL,
  function_name   TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  state           TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  doc             TEXT NOT NULL,
  PRIMARY KEY (account, job_id),
  UNIQUE (account, idempotency_key),
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
) STRICT;
-- Deleting a function finds its jobs through this index; listing a function's jobs too.
CREATE INDEX batch_jobs_by_function ON batch_jobs (account, function_name, created_at);
-- A starting node resumes the jobs that were running.
CREATE INDEX batch_jobs_by_state ON batch_jobs (state);

-- idx is the item's position in the data set; line (JSON Lines) or path (folder) says where it came from.
CREATE TABLE batch_items (
  account       TEXT    NOT NULL,
  job_id        TEXT    NOT NULL,
  idx           INTEGER NOT NULL,
  line          INTEGER,
  path          TEXT,
  payload       BLOB    NOT NULL,
  status        TEXT    NOT NULL,
  attempts      INTEGER NOT NULL,
  error_type    TEXT,
  error_message TEXT,
  PRIMARY KEY (account, job_id, idx),
  FOREIGN KEY (account, job_id) REFERENCES batch_jobs (account, job_id) ON DELETE CASCADE
) STRICT;
-- Serves both the claim (the lowest pending indexes) and the counts by status without reading rows.
CREATE INDEX batch_items_by_status ON batch_items (account, job_id, status, idx);
