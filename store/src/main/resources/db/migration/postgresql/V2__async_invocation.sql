-- Asynchronous invocation, PostgreSQL flavour: the durable queue of accepted events and each
-- function qualifier's event-invoke configuration. Times are epoch milliseconds, so "due now" is an
-- integer comparison exactly as on SQLite.

-- An event is due when next_attempt_at has come and no live claim (claimed_until in the future)
-- holds it. claimed_by names the node that claimed it, so that node can release its claims when it
-- starts again after a crash. Claimers lock the rows they take with FOR UPDATE SKIP LOCKED.
CREATE TABLE async_events (
  request_id      text COLLATE "C" NOT NULL PRIMARY KEY,
  account         text COLLATE "C" NOT NULL,
  function_name   text COLLATE "C" NOT NULL,
  qualifier       text COLLATE "C",
  payload         bytea NOT NULL,
  client_context  text,
  accepted_at     bigint NOT NULL,
  attempts        integer NOT NULL,
  next_attempt_at bigint NOT NULL,
  claimed_by      text,
  claimed_until   bigint,
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
);
CREATE INDEX async_events_due ON async_events (next_attempt_at);
-- Deleting a function finds its events through this index instead of scanning the queue.
CREATE INDEX async_events_by_function ON async_events (account, function_name);
CREATE INDEX async_events_claimed ON async_events (claimed_by) WHERE claimed_by IS NOT NULL;

-- qualifier is $LATEST for the unqualified function; config is the EventInvokeConfig document.
CREATE TABLE event_invoke_configs (
  account       text COLLATE "C" NOT NULL,
  function_name text COLLATE "C" NOT NULL,
  qualifier     text COLLATE "C" NOT NULL,
  config        jsonb NOT NULL,
  PRIMARY KEY (account, function_name, qualifier),
  FOREIGN KEY (account, function_name) REFERENCES functions (account, name) ON DELETE CASCADE
);
