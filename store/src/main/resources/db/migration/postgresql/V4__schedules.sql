-- Cron, rate and one-time schedules (PostgreSQL flavour). The definition is a JSON document; the
-- columns hold what the scheduler queries and compares: when the next occurrence is and when it
-- is due (epoch milliseconds, so both engines compare plain integers), and a timing revision that
-- changes whenever the definition's timing does. history is written only by the scheduler.
CREATE TABLE schedules (
  account            text COLLATE "C" NOT NULL,
  name               text COLLATE "C" NOT NULL,
  function_name      text COLLATE "C" NOT NULL,
  state              text NOT NULL,
  definition         jsonb NOT NULL,
  timing_revision    bigint NOT NULL,
  next_occurrence_ms bigint,
  due_ms             bigint,
  attempts           integer NOT NULL,
  history            jsonb NOT NULL,
  PRIMARY KEY (account, name),
  -- A schedule goes with the function it invokes.
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
);
-- The scheduler asks for the earliest due schedules; schedules with nothing to run are left out.
CREATE INDEX schedules_by_due ON schedules (due_ms) WHERE due_ms IS NOT NULL;
-- Deleting a function finds its schedules without a scan.
CREATE INDEX schedules_by_function ON schedules (account, function_name);
