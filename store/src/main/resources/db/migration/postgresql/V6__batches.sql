-- Batch jobs over a data set, PostgreSQL flavour. A job is kept whole as a JSON document (doc); the
-- other columns are the keys it is found by. Every item is a row: its status is the checkpoint
-- (Pending -> Running -> Succeeded / Failed), so a restarted node knows what is left to invoke.
-- Runners claim items with FOR UPDATE SKIP LOCKED, so several never take the same one.

CREATE TABLE batch_jobs (
  account         text COLLATE "C" NOT NULL,
  job_id          text COLLATE "C" NOT NULL,
  function_name   text COLLATE "C" NOT NULL,
  idempotency_key text COLLATE "C" NOT NULL,
  state           text NOT NULL,
  created_at      timestamptz NOT NULL,
  doc             jsonb NOT NULL,
  PRIMARY KEY (account, job_id),
  UNIQUE (account, idempotency_key),
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
);
-- Deleting a function finds its jobs through this index; listing a function's jobs too.
CREATE INDEX batch_jobs_by_function ON batch_jobs (account, function_name, created_at);
-- A starting node resumes the jobs that were running.
CREATE INDEX batch_jobs_by_state ON batch_jobs (state);

-- idx is the item's position in the data set; line (JSON Lines) or path (folder) says where it came from.
CREATE TABLE batch_items (
  account       text COLLATE "C" NOT NULL,
  job_id        text COLLATE "C" NOT NULL,
  idx           bigint  NOT NULL,
  line          integer,
  path          text,
  payload       bytea   NOT NULL,
  status        text    NOT NULL,
  attempts      integer NOT NULL,
  error_type    text,
  error_message text,
  PRIMARY KEY (account, job_id, idx),
  FOREIGN KEY (account, job_id) REFERENCES batch_jobs (account, job_id) ON DELETE CASCADE
);
-- Serves both the claim (the lowest pending indexes) and the counts by status without reading rows.
CREATE INDEX batch_items_by_status ON batch_items (account, job_id, status, idx);
